/**
 * The signal map: mapSignals() on real DataSources (the example app and the blog fixtures with
 * receivers in every phase), the `typeorm-signals map` command on the example app's ormconfig.ts,
 * and docs/diagnostics.md's copy of the example's map, which must be what the command prints.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { m2mChanged, mapSignals, postSave, postSoftDelete, preSave, SignalsSubscriber } from '../../src';
import { exampleConfig } from '../../src/example/data-source';
import { connectExampleReceivers, connectWelcomeMail } from '../../src/example/receivers';
import { Author, Post, blogEntities, blogMigrations } from '../fixtures/blog';
import { openTestDataSource } from '../helpers/database';
import { ROOT } from '../helpers/run-script';

/** The line of `text` in a file of the repository, as connectedAt shows it. */
function lineOf(file: string, text: string): string {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(text));
  if (index < 0) throw new Error(`${text} not in ${file}`);
  return `${file}:${index + 1}`;
}

const exampleSite = () => lineOf('src/example/receivers.ts', 'return postSave.connect(ensureProfileExists');

describe('mapSignals() on the example app', () => {
  test('the text table and the Mermaid flowchart', async () => {
    const db = await openTestDataSource(exampleConfig);
    const off = connectExampleReceivers();
    try {
      const map = await mapSignals(db.dataSource, { cwd: ROOT });
      expect(map.installed).toBe(true);
      expect(map.text()).toBe(
        [
          'UserProfile',
          '  nothing runs on: save / insert / update / upsert, remove / delete',
          '',
          'User',
          '  save / insert / update / upsert',
          '    #  when                signal    receiver             batch  sender  connected at',
          `    1  in the transaction  postSave  ensureProfileExists  batch  User    ${exampleSite()}`,
          '  nothing runs on: remove / delete',
          '',
        ].join('\n'),
      );
      expect(map.mermaid()).toBe(
        [
          'flowchart LR',
          '  subgraph e1["User"]',
          '    e1_save(["save / insert / update / upsert"])',
          `    e1_save_1["postSave: ensureProfileExists (batch)<br/><small>${exampleSite()}</small>"]`,
          '    e1_save -->|in the transaction| e1_save_1',
          '  end',
          '  %% no receivers: UserProfile',
          '',
        ].join('\n'),
      );
    } finally {
      off();
      await db.cleanup();
    }
  });
});

describe('mapSignals() with receivers in every phase', () => {
  test('steps in the order the dispatcher runs them, per entity and write', async () => {
    const db = await openTestDataSource({ entities: blogEntities, migrations: blogMigrations, subscribers: [SignalsSubscriber] });
    const other = new DataSource({ type: 'postgres', entities: blogEntities });
    const named = (name: string) => Object.defineProperty(() => undefined, 'name', { value: name }) as () => undefined;
    const offs = [
      postSave.connect(named('everySender')), // connected first: runs first among the per-row ones
      postSave.connect(named('commitBatch'), { sender: Post, phase: 'commit', batch: true }),
      postSave.connect(named('rowInTransaction'), { sender: 'Post' }),
      postSave.connect(named('batchInTransaction'), { sender: Post, batch: true }),
      postSave.connect(named('onRollback'), { sender: Post, phase: 'rollback' }),
      postSave.connect(named('commitRow'), { sender: Post, phase: 'commit' }),
      postSave.connect(named('otherDataSource'), { sender: Post, dataSource: other }),
      preSave.connect(named('beforeBatch'), { sender: Post, batch: true }),
      preSave.connect(named('beforeRow'), { sender: Post }),
      m2mChanged.connect(named('tagsChanged'), { sender: Post, phase: 'commit' }),
      postSoftDelete.connect(named('archived'), { sender: Author }),
    ];
    try {
      const map = await mapSignals(db.dataSource);
      const post = map.steps.filter((s) => s.entity === 'Post').map((s) => [s.write, s.order, s.when, s.signal, s.receiver, s.batch, s.sender]);
      expect(post).toEqual([
        ['save', 1, 'before the write', 'preSave', 'beforeRow', false, 'Post'],
        ['save', 2, 'before the write', 'preSave', 'beforeBatch', true, 'Post'],
        ['save', 3, 'in the transaction', 'postSave', 'everySender', false, '(every sender)'],
        ['save', 4, 'in the transaction', 'postSave', 'rowInTransaction', false, '"Post"'],
        ['save', 5, 'in the transaction', 'postSave', 'batchInTransaction', true, 'Post'],
        ['save', 6, 'after commit', 'postSave', 'commitRow', false, 'Post'],
        ['save', 7, 'after commit', 'postSave', 'commitBatch', true, 'Post'],
        ['save', 8, 'after rollback', 'postSave', 'onRollback', false, 'Post'],
        ['m2m', 1, 'after commit', 'm2mChanged', 'tagsChanged', false, 'Post'],
      ]);
      // The all-sender receiver runs for every entity; softRemove only where there is a @DeleteDateColumn.
      expect(map.steps.filter((s) => s.entity === 'Author').map((s) => [s.write, s.receiver])).toEqual([
        ['save', 'everySender'],
        ['softRemove', 'archived'],
      ]);
      expect(map.steps.filter((s) => s.entity === 'Tag').map((s) => [s.write, s.receiver])).toEqual([['save', 'everySender']]);
      const site = map.steps.find((s) => s.receiver === 'commitRow')!.connectedAt;
      expect(site).toMatch(/^test\/integration\/map\.test\.ts:\d+$/);

      const text = map.text();
      expect(text).toContain('  nothing runs on: remove / delete, recover / restore\n');
      expect(text).toContain('  many-to-many add / remove\n');
      const mermaid = map.mermaid();
      // Rollback receivers branch off the last step in the transaction, with a dotted arrow.
      expect(mermaid).toContain('    e2_save_5 -->|after commit| e2_save_6');
      expect(mermaid).toContain('    e2_save_5 -.->|after rollback| e2_save_8');
      expect(mermaid).toContain('["postSave: rowInTransaction<br/><small>test/integration/map.test.ts:');
    } finally {
      for (const off of offs) off();
      await db.cleanup();
    }
  });

  test('a DataSource without the subscriber says so; one that is not initialized is mapped without connecting', async () => {
    const bare = new DataSource({ type: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none', entities: blogEntities });
    const off = postSave.connect(() => undefined, { sender: Post });
    try {
      const map = await mapSignals(bare);
      expect(bare.isInitialized).toBe(false);
      expect(map.installed).toBe(false);
      expect(map.text().split('\n')[0]).toBe('The DataSource has no SignalsSubscriber: none of these receivers runs for its writes.');
      expect(map.entities).toEqual(expect.arrayContaining(['Post', 'Tag', 'Author']));
    } finally {
      off();
    }
    await expect(mapSignals({} as DataSource)).rejects.toThrow('mapSignals(): expected a TypeORM DataSource');
  });
});

// The command runs in a child process, which loads the real `typeorm` (1.x): not under typeorm-0.3.
const onTypeorm03 = (JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('typeorm')), 'package.json'), 'utf8')) as { version: string }).version.startsWith('0.3');

(onTypeorm03 ? describe.skip : describe)('npx typeorm-signals map', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

  test('prints the example app’s map from ormconfig.ts, as mapSignals() makes it, and docs/diagnostics.md shows it', async () => {
    const cli = run('map', '-d', 'ormconfig.ts', '-r', 'src/example/connect.ts');
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);

    const db = await openTestDataSource(exampleConfig);
    const off = connectExampleReceivers();
    const offMail = connectWelcomeMail(); // src/example/connect.ts connects both
    try {
      const map = await mapSignals(db.dataSource, { cwd: ROOT });
      expect(cli.stdout).toBe(`${map.text()}\n\`\`\`mermaid\n${map.mermaid()}\`\`\`\n`);
    } finally {
      offMail();
      off();
      await db.cleanup();
    }
    // docs/diagnostics.md's example map holds exactly what the command prints (regenerate it with the command).
    const page = fs.readFileSync(path.join(ROOT, 'docs', 'diagnostics.md'), 'utf8');
    const start = page.indexOf('<!-- signal-map: example -->\n');
    const end = page.indexOf('<!-- /signal-map -->');
    expect([start, end].every((i) => i >= 0)).toBe(true);
    expect(page.slice(start, end)).toBe(`<!-- signal-map: example -->\n\`\`\`text\n${cli.stdout.replace('\n```mermaid', '```\n\n```mermaid')}`);
  });

  test('--format, and usage errors on stderr with exit code 2', () => {
    const mermaid = run('map', '--format', 'mermaid', '-d', 'ormconfig.ts', '-r', 'src/example/connect.ts');
    expect(mermaid.stdout.startsWith('flowchart LR\n')).toBe(true);
    const missing = run('map');
    expect([missing.status, missing.stderr.split('\n')[0]]).toEqual([2, 'typeorm-signals: map needs the DataSource file: -d <file>']);
    const unknown = run('chart', '-d', 'ormconfig.ts');
    expect([unknown.status, unknown.stderr.split('\n')[0]]).toEqual([2, 'typeorm-signals: unknown command "chart" (known: map)']);
    const none = run('map', '-d', 'no-such-file.ts');
    expect(none.status).toBe(1);
    expect(none.stderr).toContain(`no such file: ${path.join(ROOT, 'no-such-file.ts')}`);
  });
});
