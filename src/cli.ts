#!/usr/bin/env node
/**
 * `npx typeorm-signals map -d ormconfig.ts [-r ./src/receivers.ts] [--format text|mermaid]`:
 * prints the signal map of a DataSource (see mapSignals()). Like the TypeORM CLI, it loads the
 * DataSource file, with ts-node when it is TypeScript, and takes its one exported DataSource;
 * it builds the entity metadata without connecting to the database. Receivers must be connected
 * by the time the map is made: by the DataSource file's own imports, or by the modules given
 * with -r (loaded after it, in order).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DataSource } from 'typeorm';
import { mapSignals } from './typeorm/map';

const USAGE = `Usage: typeorm-signals map -d <data-source file> [-r <module>]... [--format text|mermaid]

Prints, for every entity and kind of write, the receivers that run, in order, per phase, with
where each was connected: a text table, then a Mermaid flowchart (--format picks one).

  -d, --dataSource  the file exporting the DataSource (.ts files are loaded with ts-node)
  -r, --require     a module that connects receivers, loaded after the DataSource file
  --format          text or mermaid (default: both, the flowchart in a \`\`\`mermaid fence)
`;

interface Args {
  dataSource: string;
  requires: string[];
  format: 'both' | 'text' | 'mermaid';
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') throw new UsageError('');
  if (command !== 'map') throw new UsageError(`unknown command "${command}" (known: map)`);
  let dataSource: string | undefined;
  let format: Args['format'] = 'both';
  const requires: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? rest[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '-d' || flag === '--dataSource' || flag === '--data-source') dataSource = value();
    else if (flag === '-r' || flag === '--require') requires.push(value());
    else if (flag === '--format') {
      const v = value();
      if (v !== 'text' && v !== 'mermaid') throw new UsageError(`--format must be text or mermaid, got "${v}"`);
      format = v;
    } else if (flag === '--help' || flag === '-h') throw new UsageError('');
    else throw new UsageError(`unknown option "${arg}"`);
  }
  if (dataSource === undefined) throw new UsageError('map needs the DataSource file: -d <file>');
  return { dataSource, requires, format };
}

const TYPESCRIPT = /\.[cm]?tsx?$/;

/** Registers ts-node (from the project, as TypeORM's CLI expects it) unless a loader for .ts is there already. */
function registerTypeScript(file: string): void {
  // require.extensions: the one way to see whether a CommonJS loader for .ts is registered.
  if (require.extensions['.ts'] !== undefined) return;
  const fromProject = createRequire(path.join(process.cwd(), 'package.json'));
  let tsNode: { register(options: object): unknown };
  try {
    tsNode = fromProject('ts-node') as typeof tsNode;
  } catch {
    throw new Error(`${file} is TypeScript: install ts-node in the project (npm install -D ts-node) or point -d at the compiled .js file`);
  }
  tsNode.register({ transpileOnly: true });
}

async function load(file: string): Promise<unknown> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) throw new Error(`no such file: ${absolute}`);
  if (TYPESCRIPT.test(absolute)) registerTypeScript(file);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(absolute);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw error;
    // TypeScript compiles import() to require() under CommonJS: keep a real import().
    const dynamicImport = new Function('s', 'return import(s)') as (s: string) => Promise<unknown>;
    return dynamicImport(pathToFileURL(absolute).href);
  }
}

function isDataSource(value: unknown): value is DataSource {
  // TypeORM's own InstanceChecker test, which works across copies of TypeORM.
  return typeof value === 'object' && value !== null && (value as { '@instanceof'?: symbol })['@instanceof'] === Symbol.for('DataSource');
}

/** The one DataSource a file exports, as the TypeORM CLI finds it (default export, or the only DataSource export). */
async function dataSourceOf(exported: unknown, file: string): Promise<DataSource> {
  if (isDataSource(exported)) return exported;
  if (typeof exported !== 'object' || exported === null) throw new Error(`${file} must export a DataSource`);
  const found = new Set<DataSource>();
  for (const value of Object.values(exported)) {
    const awaited: unknown = await value;
    if (isDataSource(awaited)) found.add(awaited);
  }
  if (found.size === 0) throw new Error(`${file} exports no DataSource`);
  if (found.size > 1) throw new Error(`${file} exports ${found.size} DataSources; export only one`);
  return [...found][0];
}

async function main(argv: readonly string[]): Promise<string> {
  const args = parseArgs(argv);
  const dataSource = await dataSourceOf(await load(args.dataSource), args.dataSource);
  for (const module of args.requires) await load(module);
  const map = await mapSignals(dataSource);
  if (args.format === 'text') return map.text();
  if (args.format === 'mermaid') return map.mermaid();
  return `${map.text()}\n\`\`\`mermaid\n${map.mermaid()}\`\`\`\n`;
}

main(process.argv.slice(2)).then(
  // Exit at once: a DataSource file may leave handles open (an embedded database, a pool).
  (output) => process.stdout.write(output, () => process.exit(0)),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message ? `typeorm-signals: ${error.message}\n\n` : ''}${USAGE}`, () => process.exit(error.message ? 2 : 0));
      return;
    }
    process.stderr.write(`typeorm-signals map: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`, () => process.exit(1));
  },
);
