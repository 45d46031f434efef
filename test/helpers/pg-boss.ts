/**
 * pg-boss for the durable tests. pg-boss 12 is ESM-only and jest's module sandbox cannot
 * require ESM, so it is loaded through Node's own require (require(esm), Node >= 20.19), outside
 * the sandbox: its `pg` is the real one, which is all it needs.
 */
import type { PgBoss as PgBossType } from 'pg-boss';

type PgBossModule = typeof import('pg-boss');

export function loadPgBoss(): PgBossModule {
  const nodeModule = process.getBuiltinModule('node:module') as typeof import('node:module');
  return nodeModule.createRequire(__filename)('pg-boss') as PgBossModule;
}

/**
 * A started PgBoss on `url` that never changes the schema (the migrations own it) and runs no
 * maintenance loops, as an application's web process would start it.
 */
export async function startBoss(url: string, options: Record<string, unknown> = {}): Promise<PgBossType> {
  const { PgBoss } = loadPgBoss();
  const boss = new PgBoss({ connectionString: url, migrate: false, supervise: false, schedule: false, max: 3, ...options });
  boss.on('error', (error: Error) => console.error(`pg-boss (test): ${error.message}`));
  await boss.start();
  return boss;
}
