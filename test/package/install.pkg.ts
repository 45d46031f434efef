/**
 * `npm run test:package`: the package as a user gets it. Packs this project (`npm pack` runs
 * the build through `prepack`), checks what the tarball holds, installs it into a new project in a
 * temporary folder together with typeorm, reflect-metadata and PGlite from the registry (the npm
 * cache first), and runs a small program there through `require` and through `import`: it saves
 * an entity on PGlite and must see postSave with `created: true`. TypeScript then compiles a
 * .cts and a .mts file against the installed types with moduleResolution nodenext.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
jest.setTimeout(180_000);

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 150_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.status}:\n${result.stdout}\n${result.stderr}${result.error ?? ''}`);
  }
  return result.stdout;
}

/** The version this repository tests with, so that the install is served from the npm cache. */
function devVersion(name: string): string {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
}

let work: string;
let tarball: string;
let packed: Packed;

interface Packed {
  filename: string;
  files: Array<{ path: string }>;
}

/** `npm pack --json` output; lifecycle scripts (prepack's build) may print lines before it. */
function packJson(stdout: string): Packed[] {
  const start = stdout.search(/^\[/m);
  if (start < 0) throw new Error(`npm pack printed no JSON:\n${stdout}`);
  return JSON.parse(stdout.slice(start));
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'typeorm-signals-package-'));
  [packed] = packJson(run('npm', ['pack', '--json', '--pack-destination', work], ROOT));
  tarball = path.join(work, packed.filename);
});
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the tarball holds dist, README, LICENSE and package.json, and nothing else', () => {
  const files = packed.files.map((f) => f.path).sort();
  expect(files.filter((f) => !f.startsWith('dist/'))).toEqual(['LICENSE', 'README.md', 'package.json']);
  for (const entry of ['index', 'testing/index', 'jest']) {
    for (const ext of ['.js', '.d.ts', '.mjs', '.d.mts']) expect(files).toContain(`dist/${entry}${ext}`);
  }
  // No example app, tests or TypeScript sources (source maps carry their sources inline).
  expect(files.filter((f) => /example|\.test\.|(?<!\.d)\.ts$/.test(f))).toEqual([]);
  // `npm pack --dry-run` lists the same files.
  const [dry] = packJson(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT));
  expect(dry.files.map((f) => f.path).sort()).toEqual(files);
});

const programBody = `
const Note = new EntitySchema({
  name: 'Note',
  tableName: 'notes',
  columns: { id: { type: Number, primary: true, generated: true }, title: { type: String } },
});

async function main(kit) {
  const dataSource = new DataSource({
    type: 'postgres',
    driver: new PGliteDriver({}).driver,
    entities: [Note],
    subscribers: [SignalsSubscriber],
    synchronize: true,
  });
  await dataSource.initialize();
  const seen = [];
  postSave.connect(({ created, entityId, instance }) => void seen.push({ created, entityId, title: instance.title }), { sender: 'Note' });
  const saved = await dataSource.getRepository(Note).save({ title: 'hello' });
  const captured = await kit.captureSignals(() => dataSource.getRepository(Note).save({ title: 'captured' }));
  await dataSource.destroy();
  console.log('RESULT ' + JSON.stringify({ id: saved.id, seen, captured: captured.records.length, ...kit.extra }));
}
`;

const cjsProgram = `'use strict';
require('reflect-metadata');
const { DataSource, EntitySchema } = require('typeorm');
const { PGliteDriver } = require('typeorm-pglite');
const { postSave, SignalsSubscriber } = require('typeorm-signals');
const { captureSignals } = require('typeorm-signals/testing');
const { signalMatchers } = require('typeorm-signals/jest');
${programBody}
main({ captureSignals, extra: { matchers: Object.keys(signalMatchers) } }).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

const esmProgram = `import 'reflect-metadata';
import { createRequire } from 'node:module';
import { DataSource, EntitySchema } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { postSave, SignalsSubscriber } from 'typeorm-signals';
import { captureSignals } from 'typeorm-signals/testing';
import { signalMatchers } from 'typeorm-signals/jest';
${programBody}
const require = createRequire(import.meta.url);
// One module instance: what import gives is what require gives.
const sameInstance =
  require('typeorm-signals').postSave === postSave &&
  require('typeorm-signals/testing').captureSignals === captureSignals &&
  require('typeorm-signals/jest').signalMatchers === signalMatchers;
await main({ captureSignals, extra: { matchers: Object.keys(signalMatchers), sameInstance } });
`;

const typesBody = `
export const off: () => boolean = postSave.connect(
  ({ created, entityId }) => {
    const c: boolean | null = created;
    void c;
    void entityId;
  },
  { sender: 'Note' },
);
export const subscriber = SignalsSubscriber;
export const capture: typeof captureSignals = captureSignals;
export const matchers: typeof signalMatchers = signalMatchers;
// @ts-expect-error: a deferred phase on a pre signal does not compile
preSave.connect(() => undefined, { phase: 'commit' });
// @ts-expect-error: the bridge's internals (marked @internal) are not in the published types
void postSave.dispatch;
// @ts-expect-error: ModelSignal is a type; users cannot construct an eleventh model signal
void new ModelSignal('save', 'post', 'mySignal');
export type AnyModelSignal = ModelSignal<'save', 'post'>;
`;
const typesImports = `import { postSave, preSave, SignalsSubscriber, ModelSignal } from 'typeorm-signals';
import { captureSignals } from 'typeorm-signals/testing';
import { signalMatchers } from 'typeorm-signals/jest';
`;

describe('installed from the tarball into a new project', () => {
  let app: string;
  beforeAll(() => {
    app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'signals-consumer', version: '1.0.0', private: true }, null, 2));
    const deps = ['typeorm', 'reflect-metadata', '@electric-sql/pglite', 'typeorm-pglite'].map((name) => `${name}@${devVersion(name)}`);
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...deps], app);
    fs.writeFileSync(path.join(app, 'app.cjs'), cjsProgram);
    fs.writeFileSync(path.join(app, 'app.mjs'), esmProgram);
    fs.writeFileSync(path.join(app, 'check.cts'), typesImports + typesBody);
    fs.writeFileSync(path.join(app, 'check.mts'), typesImports + typesBody);
  });

  function result(file: string) {
    const out = run(process.execPath, [file], app);
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`${file} printed no RESULT line:\n${out}`);
    return JSON.parse(line.slice('RESULT '.length));
  }

  test.each([['require', 'app.cjs'], ['import', 'app.mjs']])('through %s: save() on PGlite sends postSave with created: true', (how, file) => {
    const got = result(file);
    expect(got).toMatchObject({
      id: 1,
      seen: [
        { created: true, entityId: 1, title: 'hello' },
        { created: true, entityId: 2, title: 'captured' },
      ],
      captured: 2, // the second save's preSave and postSave
      matchers: ['toHaveSent', 'toHaveSentTimes'],
    });
    if (how === 'import') expect(got.sameInstance).toBe(true);
  });

  // The shipped source maps turn the library's dist frames into <package>/src paths; connectedAt
  // must skip those too and name the user's file and line (line 3 of this program).
  const connectSite = `'use strict';
const { Signal } = require('typeorm-signals');
const signal = new Signal({ name: 'site' }); signal.connect(() => undefined);
process.stdout.write('SITE ' + signal.receivers()[0].connectedAt + '\\n');
`;
  test.each([
    ['plain node', []],
    ['node --enable-source-maps', ['--enable-source-maps']],
  ])('connectedAt names the user file and line under %s', (_how, flags) => {
    fs.writeFileSync(path.join(app, 'site.cjs'), connectSite);
    const out = run(process.execPath, [...flags, 'site.cjs'], app);
    const site = out.split('\n').find((l) => l.startsWith('SITE '))?.slice('SITE '.length);
    expect(site).toBe(`${path.join(app, 'site.cjs')}:3`);
  });

  test('TypeScript (moduleResolution nodenext) finds the types of every entry point, for require and for import', () => {
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck'];
    run(process.execPath, [tsc, ...args, '--typeRoots', path.join(ROOT, 'node_modules/@types'), '--types', 'node', 'check.cts', 'check.mts'], app);
  });
});
