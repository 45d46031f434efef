/**
 * The diagnostics of issue 14 as a user gets them: the packed tarball installed into a new
 * project in a temporary folder.
 *
 * - connectedAt names the user's file and line under plain node, node --enable-source-maps,
 *   ts-node, tsx (a .ts and an .mts file) and jest with ts-jest: the shipped source maps turn the
 *   library's dist frames into <package>/src paths, which must count as library frames too.
 * - A second physical copy (a plugin package with its own node_modules/typeorm-signals) warns when
 *   it loads, naming both folders, and checkSignals() of either copy reports it; import and
 *   require of one copy are one instance and do not warn.
 *
 * ts-node, tsx, jest and ts-jest are installed into the temporary project, at the versions this
 * repository tests with (tsx is a devDependency for this), so that npm serves them from its cache
 * and each runs as it would in a user's project.
 */
import fs from 'node:fs';
import path from 'node:path';
import { installApp, packInto, resultLine, run } from './helpers';

jest.setTimeout(180_000);

let work: string;
let tarball: string;
let app: string;

beforeAll(() => {
  ({ work, tarball } = packInto('typeorm-signals-diagnostics-'));
  app = path.join(work, 'app');
  installApp(app, tarball, [
    'typeorm',
    'reflect-metadata',
    '@electric-sql/pglite',
    'typeorm-pglite',
    'typescript',
    'ts-node',
    'tsx',
    'jest',
    'ts-jest',
    '@types/node',
    '@types/jest',
  ]);
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, module: 'commonjs', target: 'es2022', esModuleInterop: true, skipLibCheck: true, types: ['node', 'jest'] } }),
  );
});
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('connectedAt names the file and line of the user code that connected', () => {
  // The connect() is on line 3 of every one of these files.
  const commonjs = `'use strict';
const { Signal } = require('typeorm-signals');
const signal = new Signal({ name: 'site' }); signal.connect(() => undefined);
process.stdout.write('SITE ' + signal.receivers()[0].connectedAt + '\\n');
`;
  const typescript = `import { Signal } from 'typeorm-signals';
const signal = new Signal({ name: 'site' });
signal.connect(() => undefined);
process.stdout.write('SITE ' + signal.receivers()[0].connectedAt + '\\n');
`;
  const jestTest = `import { Signal } from 'typeorm-signals';
test('site', () => {
  const signal = new Signal({ name: 'site' }); signal.connect(() => undefined);
  process.stdout.write('SITE ' + signal.receivers()[0].connectedAt + '\\n');
});
`;

  function site(stdout: string): string | undefined {
    return stdout
      .split('\n')
      .find((l) => l.startsWith('SITE '))
      ?.slice('SITE '.length);
  }

  test.each([
    ['plain node', 'site.cjs', commonjs, (file: string) => [process.execPath, file]],
    // An ESM frame is a percent-encoded file:// URL; connectedAt is the path.
    ['plain node (ESM .mjs in a folder with a space)', 'with space/site.mjs', typescript, (file: string) => [process.execPath, file]],
    ['node --enable-source-maps', 'site-maps.cjs', commonjs, (file: string) => [process.execPath, '--enable-source-maps', file]],
    ['ts-node', 'site-ts-node.ts', typescript, (file: string) => [process.execPath, 'node_modules/ts-node/dist/bin.js', file]],
    ['tsx (CommonJS .ts)', 'site-tsx.ts', typescript, (file: string) => [process.execPath, 'node_modules/tsx/dist/cli.mjs', file]],
    ['tsx (ESM .mts)', 'site-tsx.mts', typescript, (file: string) => [process.execPath, 'node_modules/tsx/dist/cli.mjs', file]],
    [
      'jest with ts-jest',
      'site.test.ts',
      jestTest,
      (file: string) => [process.execPath, 'node_modules/jest/bin/jest.js', '--preset', 'ts-jest', '--rootDir', '.', '--ci', file],
    ],
  ])('under %s', (_how, file, source, command) => {
    fs.mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
    fs.writeFileSync(path.join(app, file), source);
    const [executable, ...args] = command(file);
    expect(site(run(executable, args, app).stdout)).toBe(`${path.join(app, file)}:3`);
  });
});

describe('a second copy of typeorm-signals in the process', () => {
  let plugin: string;
  beforeAll(() => {
    // A plugin package with its own copy, as npm link or a monorepo leaves it; it resolves typeorm
    // from the app (its peer dependency), like a linked package does.
    plugin = path.join(app, 'plugin');
    installApp(plugin, tarball, [], ['--legacy-peer-deps']);
    fs.writeFileSync(path.join(plugin, 'index.js'), "module.exports = require('typeorm-signals');\n");
    fs.writeFileSync(
      path.join(app, 'copies.cjs'),
      `'use strict';
require('reflect-metadata');
const warnings = [];
process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
const { DataSource, EntitySchema } = require('typeorm');
const { PGliteDriver } = require('typeorm-pglite');
const app = require('typeorm-signals');
const Note = new EntitySchema({ name: 'Note', tableName: 'notes', columns: { id: { type: Number, primary: true, generated: true }, title: { type: String } } });

async function main() {
  // import() of the same install is the CommonJS build again: one copy, no warning.
  const esm = await import('typeorm-signals');
  const plugin = require('./plugin');
  await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
  const dataSource = new DataSource({ type: 'postgres', driver: new PGliteDriver({}).driver, entities: [Note], subscribers: [app.SignalsSubscriber], synchronize: true });
  await dataSource.initialize();
  const ran = [];
  plugin.postSave.connect(() => void ran.push('plugin'), { sender: 'Note' });
  await dataSource.getRepository(Note).save({ title: 'hello' });
  const codes = (problems) => problems.map((p) => ({ code: p.code, message: p.message }));
  const result = { sameInstance: esm.postSave === app.postSave, ran, warnings, fromApp: codes(app.checkSignals(dataSource)), fromPlugin: codes(plugin.checkSignals(dataSource)) };
  await dataSource.destroy();
  console.log('RESULT ' + JSON.stringify(result));
}
main().catch((error) => { console.error(error); process.exitCode = 1; });
`,
    );
  });

  test('warns once when it loads, naming both folders and what it breaks; checkSignals() of either copy reports it', () => {
    const got = resultLine(run(process.execPath, ['copies.cjs'], app).stdout, 'copies.cjs');
    const appCopy = fs.realpathSync(path.join(app, 'node_modules/typeorm-signals'));
    const pluginCopy = fs.realpathSync(path.join(plugin, 'node_modules/typeorm-signals'));
    const version = JSON.parse(fs.readFileSync(path.join(appCopy, 'package.json'), 'utf8')).version;
    expect(got.sameInstance).toBe(true);
    // The receiver connected through the plugin's copy never runs: the DataSource has the app's subscriber.
    expect(got.ran).toEqual([]);
    expect(got.warnings).toEqual([
      {
        name: 'TypeormSignalsWarning',
        code: 'TYPEORM_SIGNALS_DUPLICATE_COPY',
        message: expect.stringContaining(`typeorm-signals is loaded from 2 places in this process: ${pluginCopy} (${version}) and ${appCopy} (${version})`),
      },
    ]);
    expect(got.warnings[0].message).toContain('receivers connected through one copy never run for a DataSource whose SignalsSubscriber comes from the other');
    expect(got.fromApp).toEqual([{ code: 'duplicate-copy', message: expect.stringContaining(`${appCopy} (${version}) and ${pluginCopy} (${version})`) }]);
    expect(got.fromApp[0].message).not.toContain('comes from another copy than');
    expect(got.fromPlugin).toEqual([
      {
        code: 'duplicate-copy',
        message: expect.stringContaining(
          "This DataSource's SignalsSubscriber comes from another copy than the checkSignals() you called, so the receivers connected through this copy (1) never run for it",
        ),
      },
    ]);
  });
});
