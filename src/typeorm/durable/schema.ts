import { DEFAULT_QUEUE, deadLetterOf } from './binding';

/**
 * pg-boss's schema for a TypeORM migration. The application's migrations own it: pg-boss
 * prints its SQL (getConstructionPlans), start it with `migrate: false` so it never changes the
 * schema by itself, and freeze the SQL into a migration file, because what the function prints
 * changes with the installed pg-boss version (a later pg-boss brings its own migration SQL,
 * getMigrationPlans, for the next migration file).
 */

/**
 * The options of durableSchemaSql().
 *
 * @example
 * const sql = durableSchemaSql({ schema: 'jobs' });
 */
export interface DurableSchemaOptions {
  /** pg-boss's schema (its `schema` option). Default 'pgboss'. */
  schema?: string;
  /** The queue durable jobs go to; its dead-letter queue is `<queue>.dead-letter`. Default 'typeorm-signals'. */
  queue?: string;
  /** The pg-boss module (`await import('pg-boss')`); default: loaded from node_modules. */
  pgBoss?: PgBossPlans;
}

/**
 * SQL for a migration: `up` creates pg-boss's schema and the durable queues, `down` drops them.
 *
 * @example
 * const { up, down, version } = durableSchemaSql();
 * console.log(`pg-boss schema version ${version}: ${up.length} characters of SQL`);
 */
export interface DurableSchemaSql {
  /** pg-boss's construction SQL (without its own BEGIN/COMMIT: the migration's transaction holds it) and the two queues. */
  up: string;
  /** Drops pg-boss's schema. */
  down: string;
  /** pg-boss's schema version this SQL creates. */
  version: number;
}

/**
 * The part of the pg-boss module durableSchemaSql() uses.
 *
 * @example
 * const pgBoss: PgBossPlans = await import('pg-boss');
 */
export interface PgBossPlans {
  /** pg-boss's SQL that creates its schema, wrapped in BEGIN/COMMIT. */
  getConstructionPlans(schema?: string): string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

function loadPgBoss(): PgBossPlans {
  // pg-boss is ESM-only: require() of ESM works on Node >= 20.19 through Node's own require,
  // which test runners with a module sandbox (jest) do not give; createRequire does.
  const nodeModule = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.('node:module') as
    | { createRequire(path: string): (id: string) => unknown }
    | undefined;
  const load = nodeModule ? nodeModule.createRequire(__filename) : require;
  try {
    return load('pg-boss') as PgBossPlans;
  } catch (error) {
    throw new Error('durableSchemaSql(): could not load pg-boss; install it (npm install pg-boss@">=12") or pass { pgBoss: await import("pg-boss") }', {
      cause: error,
    });
  }
}

/**
 * The SQL of a migration that creates pg-boss's schema and the queue of durable receivers.
 * Freeze its output into the migration file (durableMigrationSource() writes one), rather than
 * calling it from the migration: the SQL a migration ran must not change with a pg-boss upgrade.
 *
 * @example
 * // scripts/durable-migration.ts: run once, commit the file it writes
 * import { writeFileSync } from 'node:fs';
 * import { durableMigrationSource } from 'typeorm-signals';
 * writeFileSync('migrations/1733220000000-CreatePgBoss.ts', durableMigrationSource({ name: 'CreatePgBoss1733220000000' }));
 */
export function durableSchemaSql(options: DurableSchemaOptions = {}): DurableSchemaSql {
  const schema = options.schema ?? 'pgboss';
  const queue = options.queue ?? DEFAULT_QUEUE;
  if (!SCHEMA_NAME.test(schema)) throw new TypeError(`durableSchemaSql(): "schema" must be a lower-case SQL identifier, got ${JSON.stringify(schema)}`);
  if (!/^[\w.\-/]+$/.test(queue)) throw new TypeError(`durableSchemaSql(): "queue" may hold letters, digits, _ . - / only, got ${JSON.stringify(queue)}`);
  const plans = (options.pgBoss ?? loadPgBoss()).getConstructionPlans(schema);
  const version = Number(/INSERT INTO \S+\.version\s*\(version\) VALUES \('(\d+)'\)/.exec(plans)?.[1]);
  // Its own BEGIN/COMMIT would end the migration's transaction half-way.
  const body = plans.replace(/^\s*BEGIN;\s*$/m, '').replace(/^\s*COMMIT;\s*$/m, '').trim();
  const deadLetter = deadLetterOf(queue);
  const up = [
    body,
    `SELECT ${schema}.create_queue('${deadLetter}', '{"policy":"standard"}'::jsonb);`,
    // notify: pg-boss's job INSERT NOTIFYs too, which wakes a listening worker at COMMIT.
    `SELECT ${schema}.create_queue('${queue}', '{"policy":"standard","deadLetter":"${deadLetter}","notify":true}'::jsonb);`,
  ].join('\n');
  return { up, down: `DROP SCHEMA ${schema} CASCADE;`, version };
}

/**
 * The source of a TypeORM migration file with durableSchemaSql()'s SQL frozen into it.
 *
 * @example
 * writeFileSync('migrations/1733220000000-CreatePgBoss.ts', durableMigrationSource({ name: 'CreatePgBoss1733220000000' }));
 */
export function durableMigrationSource(options: DurableSchemaOptions & { name: string }): string {
  if (!/^[A-Za-z_$][\w$]*\d{13}$/.test(options.name ?? '')) {
    throw new TypeError('durableMigrationSource(): "name" must be a class name ending in a 13-digit timestamp, e.g. CreatePgBoss1733220000000');
  }
  const { up, down, version } = durableSchemaSql(options);
  const literal = (sql: string) => '`' + sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * pg-boss's schema (version ${version}) and the typeorm-signals durable queues, frozen from
 * durableSchemaSql(). Start pg-boss with \`migrate: false\`: this migration owns its schema.
 */
export class ${options.name} implements MigrationInterface {
  name = '${options.name}';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(UP);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(${literal(down)});
  }
}

const UP = ${literal(up)};
`;
}
