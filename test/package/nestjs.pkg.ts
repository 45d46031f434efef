/**
 * typeorm-signals/nestjs as a user gets it: the packed tarball installed into a new project with
 * @nestjs/common, @nestjs/core and @nestjs/typeorm (the optional peer dependencies), TypeORM and
 * PGlite: at this repository's versions (Nest 11, TypeORM 1), with @nestjs/typeorm 12, and at the
 * oldest lines the peer ranges accept (Nest 10, @nestjs/typeorm 10, TypeORM 0.3). A small Nest application (plain JavaScript, decorators applied by hand) boots through
 * require and through import: SignalsModule installs the signals on @nestjs/typeorm's DataSource,
 * the @OnSignal method runs with `this` bound, and closing the application disconnects it.
 * TypeScript then compiles a decorated provider against the installed types, a wrong pairing
 * included. A project without Nest gets the main entry, and a clear error from /nestjs only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { devVersion, installApp, packInto, resultLine, run, type Packed } from './helpers';

jest.setTimeout(240_000);

let work: string;
let packed: Packed;
let tarball: string;

beforeAll(() => {
  ({ work, tarball, packed } = packInto('typeorm-signals-nestjs-'));
});
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the nestjs entry point: CommonJS, ESM wrapper and types', () => {
  const files = packed.files.map((f) => f.path);
  for (const ext of ['.js', '.d.ts', '.mjs', '.d.mts']) expect(files).toContain(`dist/nestjs/index${ext}`);
});

const appBody = `
const Note = new EntitySchema({
  name: 'Note',
  tableName: 'notes',
  columns: { id: { type: Number, primary: true, generated: true }, title: { type: String } },
});

class NoteSignals {
  constructor() {
    this.seen = [];
  }
  saved({ instance, created }) {
    this.seen.push(instance.title + ' created=' + created);
  }
}
Injectable()(NoteSignals);
OnSignal(postSave, { sender: 'Note', phase: 'commit' })(NoteSignals.prototype, 'saved', Object.getOwnPropertyDescriptor(NoteSignals.prototype, 'saved'));

class AppModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'postgres', driver: new PGliteDriver({}).driver, entities: [Note], synchronize: true }),
    SignalsModule.forRoot(),
  ],
  providers: [NoteSignals],
})(AppModule);

async function main(extra) {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const dataSource = app.get(getDataSourceToken());
  await dataSource.getRepository(Note).save({ title: 'hello' });
  const seen = app.get(NoteSignals).seen;
  const receivers = postSave.receivers().map((r) => r.receiver.name);
  await app.close();
  console.log('RESULT ' + JSON.stringify({ seen, receivers, afterClose: postSave.receivers().length, ...extra }));
}
`;

const cjsApp = `'use strict';
require('reflect-metadata');
const { Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { TypeOrmModule, getDataSourceToken } = require('@nestjs/typeorm');
const { EntitySchema } = require('typeorm');
const { PGliteDriver } = require('typeorm-pglite');
const { postSave } = require('typeorm-signals');
const { OnSignal, SignalsModule } = require('typeorm-signals/nestjs');
${appBody}
main({}).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

const esmApp = `import 'reflect-metadata';
import { createRequire } from 'node:module';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { EntitySchema } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { postSave } from 'typeorm-signals';
import { OnSignal, SignalsModule } from 'typeorm-signals/nestjs';
${appBody}
const require = createRequire(import.meta.url);
await main({ sameInstance: require('typeorm-signals/nestjs').SignalsModule === SignalsModule });
`;

const typesCheck = `import { Injectable } from '@nestjs/common';
import { postSave, type SavePayload } from 'typeorm-signals';
import { OnSignal, SignalsModule, type SignalsModuleOptions } from 'typeorm-signals/nestjs';

class Note {
  id!: number;
  title!: string;
}
class Other {
  size!: number;
}

@Injectable()
export class NoteSignals {
  @OnSignal(postSave, { sender: Note, phase: 'commit', dataSource: 'reports' })
  saved({ instance }: SavePayload<Note, 'commit'>): string {
    return String(instance.title);
  }

  // @ts-expect-error the sender is Note: a method for Other's payload does not fit
  @OnSignal(postSave, { sender: Note })
  wrong({ instance }: SavePayload<Other, 'transaction'>): number {
    return Number(instance.size);
  }
}

const options: SignalsModuleOptions = { dataSources: ['default', 'reports'] };
export const module = SignalsModule.forRoot(options);
`;

const common = ['reflect-metadata', '@electric-sql/pglite', 'typeorm-pglite', 'rxjs'];
// The dev versions (Nest 11, TypeORM 1.x), the newest @nestjs/typeorm line the peer range accepts, and the oldest lines.
const setups: Array<[string, string, string[]]> = [
  ['Nest 11, @nestjs/typeorm 11 and TypeORM 1 (the versions this repository tests with)', 'nest-11', []],
  ['Nest 11, @nestjs/typeorm 12 and TypeORM 1', 'nest-typeorm-12', ['@nestjs/common@^11', '@nestjs/core@^11', '@nestjs/typeorm@^12', `typeorm@${devVersion('typeorm')}`]],
  ['Nest 10, @nestjs/typeorm 10 and TypeORM 0.3', 'nest-10', ['@nestjs/common@^10', '@nestjs/core@^10', '@nestjs/typeorm@^10', `typeorm@${devVersion('typeorm-0.3')}`]],
];

describe.each(setups)('installed with %s', (_label, folder, pinned) => {
  let app: string;
  beforeAll(() => {
    app = path.join(work, folder);
    if (pinned.length === 0) installApp(app, tarball, ['typeorm', '@nestjs/common', '@nestjs/core', '@nestjs/typeorm', ...common]);
    else installApp(app, tarball, common, pinned);
    fs.writeFileSync(path.join(app, 'app.cjs'), cjsApp);
    fs.writeFileSync(path.join(app, 'app.mjs'), esmApp);
    fs.writeFileSync(path.join(app, 'check.mts'), typesCheck);
    fs.writeFileSync(path.join(app, 'check.cts'), typesCheck);
  });

  test.each([['require', 'app.cjs'], ['import', 'app.mjs']])('through %s: the module connects @OnSignal at boot, it runs after COMMIT, close() disconnects it', (how, file) => {
    const got = resultLine(run(process.execPath, [file], app).stdout, file);
    expect(got).toMatchObject({ seen: ['hello created=true'], receivers: ['NoteSignals.saved'], afterClose: 0 });
    if (how === 'import') expect(got.sameInstance).toBe(true);
  });

  test('TypeScript compiles a decorated provider against the installed types, and refuses a wrong pairing', () => {
    const tsc = path.resolve(__dirname, '../../node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--experimentalDecorators'];
    run(process.execPath, [tsc, ...args, '--typeRoots', path.resolve(__dirname, '../../node_modules/@types'), '--types', 'node', 'check.mts', 'check.cts'], app);
  });
});

test('without Nest installed, the main entry works and typeorm-signals/nestjs names the missing package', () => {
  const app = path.join(work, 'no-nest-consumer');
  installApp(app, tarball, ['typeorm', 'reflect-metadata']);
  const script = `require('reflect-metadata');
const { postSave } = require('typeorm-signals');
let error = null;
try { require('typeorm-signals/nestjs'); } catch (e) { error = e.message.split('\\n')[0]; }
console.log('RESULT ' + JSON.stringify({ postSave: postSave.name, error, nest: Object.keys(require.cache).some((k) => k.includes('@nestjs')) }));
`;
  fs.writeFileSync(path.join(app, 'main.cjs'), script);
  const got = resultLine(run(process.execPath, ['main.cjs'], app).stdout, 'main.cjs');
  expect(got).toEqual({ postSave: 'postSave', error: expect.stringMatching(/Cannot find module '@nestjs\/(common|core|typeorm)'/), nest: false });
});
