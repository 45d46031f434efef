/**
 * `npm run test:package`: the package as a user gets it. Packs this project (`npm pack` runs
 * the build through `prepack`), checks what the tarball holds, installs it into a new project in a
 * temporary folder together with typeorm, reflect-metadata and PGlite from the registry (the npm
 * cache first), and runs a small program there through `require` and through `import`: it saves
 * an entity on PGlite and must see postSave with `created: true`. TypeScript then compiles a
 * .cts and a .mts file against the installed types with moduleResolution nodenext. With vitest
 * installed there too, a test file that imports typeorm-signals/vitest runs under vitest, and the
 * vitest augmentation type-checks on its own (no jest types). bun (the npm package) runs a bun test
 * file that registers the matchers from typeorm-signals/matchers, and bun-types checks their types.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, installApp, packInto, packJson, resultLine, run, type Packed } from './helpers';

jest.setTimeout(180_000);

let work: string;
let packed: Packed;
let tarball: string;

beforeAll(() => {
  ({ work, tarball, packed } = packInto('typeorm-signals-package-'));
});
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the tarball holds dist, README, LICENSE and package.json, and nothing else', () => {
  const files = packed.files.map((f) => f.path).sort();
  expect(files.filter((f) => !f.startsWith('dist/'))).toEqual(['LICENSE', 'README.md', 'package.json']);
  for (const entry of ['index', 'testing/index', 'jest', 'matchers']) {
    for (const ext of ['.js', '.d.ts', '.mjs', '.d.mts']) expect(files).toContain(`dist/${entry}${ext}`);
  }
  // typeorm-signals/vitest is ESM only (vitest is): no .js, a .cjs that says so.
  for (const ext of ['.mjs', '.d.mts', '.d.ts', '.cjs']) expect(files).toContain(`dist/vitest${ext}`);
  expect(files).not.toContain('dist/vitest.js');
  // No example app, tests or TypeScript sources (source maps carry their sources inline).
  expect(files.filter((f) => /example|\.test\.|(?<!\.d)\.ts$/.test(f))).toEqual([]);
  // `npm pack --dry-run` lists the same files.
  const [dry] = packJson(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT).stdout);
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
import { signalMatchers as neutralMatchers, type SignalAssertions } from 'typeorm-signals/matchers';
export const neutral: typeof signalMatchers = neutralMatchers;
export type Assertions = SignalAssertions<void>;
`;

// A vitest user's test file: vitest's default globals: false, the matchers from typeorm-signals/vitest.
const vitestTest = `import { expect, test } from 'vitest';
import 'typeorm-signals/vitest';
import { Signal } from 'typeorm-signals';
import { captureSignals } from 'typeorm-signals/testing';

class Invitation {}
const invited = new Signal<{ email: string }>({ name: 'invited' });

test('typeorm-signals/vitest registered toHaveSent and toHaveSentTimes on the expect of vitest', async () => {
  const { records } = await captureSignals(() => invited.send(Invitation, { email: 'ada@example.com' }));
  expect(records).toHaveSent(invited, { sender: Invitation, email: 'ada@example.com' });
  expect(records).not.toHaveSent(invited, { email: 'bob@example.com' });
  expect(() => expect(records).toHaveSentTimes(invited, 2)).toThrow('Expected invited to be sent 2 times, but it was sent 1 time.');
});
`;

// Its types on their own (no jest types, no typeorm-signals/jest): only the vitest augmentation can make them compile.
const vitestTypes = `import { expect } from 'vitest';
import 'typeorm-signals/vitest';
import { postSave } from 'typeorm-signals';
import type { SignalRecord } from 'typeorm-signals/testing';
export function check(records: SignalRecord[]): void {
  expect(records).toHaveSent(postSave, { sender: 'Note', created: true });
  expect({ records }).toEqual({ records: expect.toHaveSentTimes(postSave, 1) });
  // @ts-expect-error: a typo in a payload field does not compile
  expect(records).toHaveSent(postSave, { craeted: true });
}
`;

// bun test, with the matchers from the neutral entry point (bun has no global expect either).
const BUN = '1.4.4';
const bunTest = `import { expect, test } from 'bun:test';
import { Signal } from 'typeorm-signals';
import { captureSignals } from 'typeorm-signals/testing';
import { signalMatchers } from 'typeorm-signals/matchers';

expect.extend(signalMatchers);

class Invitation {}
const invited = new Signal<{ email: string }>({ name: 'invited' });

test('expect.extend(signalMatchers) registers toHaveSent and toHaveSentTimes under bun test', async () => {
  const { records } = await captureSignals(() => invited.send(Invitation, { email: 'ada@example.com' }));
  expect(records).toHaveSent(invited, { sender: Invitation, email: expect.stringContaining('ada') });
  expect(records).not.toHaveSent(invited, { email: 'bob@example.com' });
  expect(() => expect(records).toHaveSentTimes(invited, 2)).toThrow('Expected invited to be sent 2 times, but it was sent 1 time.');
});
`;
// docs/testing.md's type declaration for bun, checked with bun-types (and failing without it).
const bunTypes = `import { expect } from 'bun:test';
import { postSave } from 'typeorm-signals';
import type { SignalRecord } from 'typeorm-signals/testing';
import type { SignalAssertions } from 'typeorm-signals/matchers';
declare module 'bun:test' {
  interface Matchers<T> extends SignalAssertions<void> {}
}
export function check(records: SignalRecord[]): void {
  expect(records).toHaveSent(postSave, { sender: 'Note', created: true });
  // @ts-expect-error: a typo in a payload field does not compile
  expect(records).toHaveSent(postSave, { craeted: true });
}
`;

describe('installed from the tarball into a new project', () => {
  let app: string;
  beforeAll(() => {
    app = path.join(work, 'signals-consumer');
    installApp(app, tarball, ['typeorm', 'reflect-metadata', '@electric-sql/pglite', 'typeorm-pglite', 'vitest']);
    fs.writeFileSync(path.join(app, 'app.cjs'), cjsProgram);
    fs.writeFileSync(path.join(app, 'app.mjs'), esmProgram);
    fs.writeFileSync(path.join(app, 'check.cts'), typesImports + typesBody);
    fs.writeFileSync(path.join(app, 'check.mts'), typesImports + typesBody);
    fs.writeFileSync(path.join(app, 'signals.test.ts'), vitestTest);
    fs.writeFileSync(path.join(app, 'vitest-check.cts'), vitestTypes);
    fs.writeFileSync(path.join(app, 'vitest-check.mts'), vitestTypes);
  });

  function result(file: string) {
    return resultLine(run(process.execPath, [file], app).stdout, file);
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

  test('the typeorm-signals bin prints the map of a DataSource file, with the receivers\' own file and line', () => {
    fs.writeFileSync(
      path.join(app, 'data-source.cjs'),
      `const { DataSource, EntitySchema } = require('typeorm');
const { PGliteDriver } = require('typeorm-pglite');
const { SignalsSubscriber } = require('typeorm-signals');
const Note = new EntitySchema({ name: 'Note', tableName: 'notes', columns: { id: { type: Number, primary: true, generated: true } } });
module.exports.dataSource = new DataSource({ type: 'postgres', driver: new PGliteDriver({}).driver, entities: [Note], subscribers: [SignalsSubscriber] });
`,
    );
    fs.writeFileSync(
      path.join(app, 'receivers.cjs'),
      `const { postSave } = require('typeorm-signals');
postSave.connect(function indexNote() {}, { sender: 'Note', phase: 'commit' });
`,
    );
    const bin = path.join(app, 'node_modules/.bin/typeorm-signals');
    const out = run(bin, ['map', '-d', 'data-source.cjs', '-r', './receivers.cjs', '--format', 'text'], app).stdout;
    expect(out).toMatch(/^Note\n {2}save \/ insert \/ update \/ upsert\n/);
    expect(out).toMatch(/1 +after commit +postSave +indexNote +"Note" +receivers\.cjs:2\n/);
    expect(run(bin, ['map', '-d', 'data-source.cjs', '--format', 'mermaid'], app).stdout).toMatch(/^flowchart LR\n/);
  });

  test('TypeScript (moduleResolution nodenext) finds the types of every entry point, for require and for import', () => {
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck'];
    run(process.execPath, [tsc, ...args, '--typeRoots', path.join(ROOT, 'node_modules/@types'), '--types', 'node', 'check.cts', 'check.mts'], app);
    // typeorm-signals/vitest, in ESM and in CommonJS mode, with vitest's types and no jest's.
    run(process.execPath, [tsc, ...args, '--typeRoots', path.join(ROOT, 'node_modules/@types'), '--types', 'node', 'vitest-check.cts', 'vitest-check.mts'], app);
  });

  test('under the installed vitest, import \'typeorm-signals/vitest\' registers toHaveSent; require() of it says to import it', () => {
    const out = run(process.execPath, [path.join(app, 'node_modules/vitest/vitest.mjs'), 'run', 'signals.test.ts'], app, { CI: '1', NO_COLOR: '1' });
    expect(out.stdout).toMatch(/Tests +1 passed \(1\)/);
    const required = spawnSync(process.execPath, ['-e', "require('typeorm-signals/vitest')"], { cwd: app, encoding: 'utf8' });
    expect([required.status, required.stderr]).toEqual([1, expect.stringContaining("typeorm-signals/vitest cannot be loaded with require(): it imports vitest, which is an ECMAScript module only. Use import 'typeorm-signals/vitest'")]);
  });

  describe(`with bun ${BUN} (the npm package: its binary, no install script)`, () => {
    let bun: string;
    beforeAll(() => {
      run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `bun@${BUN}`, `bun-types@${BUN}`], app);
      bun = path.join(app, 'node_modules/.bin/bun');
      fs.writeFileSync(path.join(app, 'signals.bun.test.ts'), bunTest);
      fs.writeFileSync(path.join(app, 'jest-under-bun.bun.test.ts'), "import { test } from 'bun:test';\nimport 'typeorm-signals/jest';\ntest('imported', () => undefined);\n");
      fs.writeFileSync(path.join(app, 'bun-check.mts'), bunTypes);
    });

    test('bun test: expect.extend(signalMatchers) from typeorm-signals/matchers registers the matchers', () => {
      const out = run(bun, ['test', './signals.bun.test.ts'], app);
      expect(`${out.stdout}${out.stderr}`).toMatch(/ 1 pass\n 0 fail\n/);
    });

    test('bun test: typeorm-signals/jest warns that it registered nothing and names typeorm-signals/matchers', () => {
      const out = run(bun, ['test', './jest-under-bun.bun.test.ts'], app);
      expect(out.stderr).toContain("[TSIG_JEST_NO_EXPECT] TypeormSignalsWarning: typeorm-signals/jest registered nothing: there is no global expect under bun test.");
    });

    test('TypeScript with bun-types: SignalAssertions extends bun\'s Matchers; without the declaration toHaveSent does not exist', () => {
      const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
      const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'bun-types'];
      run(process.execPath, [tsc, ...args, 'bun-check.mts'], app);
      const bareTypes = bunTypes.replace(/declare module 'bun:test' \{\n[^\n]*\n\}\n/, '');
      expect(bareTypes).not.toContain('declare module');
      fs.writeFileSync(path.join(app, 'bun-check-bare.mts'), bareTypes);
      const bare = spawnSync(process.execPath, [tsc, ...args, 'bun-check-bare.mts'], { cwd: app, encoding: 'utf8' });
      expect(bare.stdout).toContain("Property 'toHaveSent' does not exist on type 'Matchers<SignalRecord[]>'");
    });
  });
});
