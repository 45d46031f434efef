/**
 * What durable.reliability.ts and its child processes (durable-writer.ts, durable-worker.ts)
 * share: the table the receivers write their effects to, the receivers themselves (the same
 * dispatchUids in every process, as in production), and the DataSource a child opens.
 *
 * Every receiver run leaves one row in durable_effects, in the worker's job transaction: a row
 * that exists is an effect that committed, so duplicates and losses are counted in the database,
 * not in a process that may be killed. The table has no unique key on purpose: a job run twice
 * would show as two rows instead of failing.
 */
import 'reflect-metadata';
import { writeSync } from 'node:fs';
import { DataSource, type EntityManager, type EntitySubscriberInterface, type MigrationInterface, type QueryRunner } from 'typeorm';
import { SignalsSubscriber, postSave } from '../../src';
import { User, exampleEntities } from '../../src/example/entities';

export class CreateDurableEffects1900000000000 implements MigrationInterface {
  name = 'CreateDurableEffects1900000000000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE durable_effects (
        id serial PRIMARY KEY,
        kind text NOT NULL,
        job_id uuid,
        user_id integer NOT NULL,
        attempt integer,
        pid integer NOT NULL,
        started_at double precision
      )`);
    // Jobs the test has killed a worker on once: the next claim of such a job runs to the end.
    await queryRunner.query('CREATE TABLE durable_spared (job_id uuid PRIMARY KEY)');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE durable_spared');
    await queryRunner.query('DROP TABLE durable_effects');
  }
}

/** Milliseconds since the epoch with sub-millisecond precision, comparable across processes. */
export const epochMs = () => performance.timeOrigin + performance.now();

/** A line on stdout that the parent can act on at once (synchronous: the process may block next). */
export function say(line: string): void {
  writeSync(1, `${line}\n`);
}

/**
 * Blocks the whole process (no timer, no I/O, no promise runs) until it is killed; exits with
 * code 3 after `ms` so that a test that forgot to kill it cannot leave it behind.
 */
export function blockUntilKilled(ms = 60_000): never {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  process.exit(3);
}

async function recordEffect(manager: EntityManager, kind: string, userId: unknown, jobId: string | null, attempt: number | null, startedAt: number | null): Promise<void> {
  await manager.query('INSERT INTO durable_effects (kind, job_id, user_id, attempt, pid, started_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    kind,
    jobId,
    userId,
    attempt,
    process.pid,
    startedAt,
  ]);
}

export interface ReceiverMode {
  /**
   * 'welcome' receiver: block inside it (after its effect row is written, before it returns)
   * unless the job is in durable_spared, and say `INSIDE <jobId>` first. For the worker kills.
   */
  blockInside?: boolean;
}

/**
 * The receivers of the scenarios, connected under the same names in every process:
 * - 'welcome-mail' (durable, per row): the welcome mail of a new user, as its effect row;
 * - the same body with phase 'commit' (connected only by writers that ask for it), which runs
 *   in the writing process after COMMIT and is lost with it.
 * Returns a function that disconnects them.
 */
export function connectScenarioReceivers(mode: ReceiverMode = {}, withCommitPhase = false): () => void {
  const offs: Array<() => boolean> = [];
  offs.push(
    postSave.connect(
      async function welcomeMail({ entityId, created, deliveryId, attempt, manager }) {
        if (!created) return;
        const startedAt = epochMs();
        await recordEffect(manager, 'durable', entityId, deliveryId, attempt, startedAt);
        if (mode.blockInside) {
          const spared = await manager.query('SELECT 1 FROM durable_spared WHERE job_id = $1', [deliveryId]);
          if (spared.length === 0) {
            say(`INSIDE ${deliveryId}`);
            blockUntilKilled();
          }
          say(`RAN ${deliveryId} ${startedAt}`);
        }
      },
      { sender: User, phase: 'durable', dispatchUid: 'welcome-mail', retry: { limit: 3, delay: 0, backoff: false } },
    ),
  );
  if (withCommitPhase) {
    offs.push(
      postSave.connect(
        async function welcomeMailAfterCommit({ instance, created, manager }) {
          if (created) await recordEffect(manager, 'commit', instance.id, null, null, null);
        },
        { sender: User, phase: 'commit' },
      ),
    );
  }
  return () => offs.forEach((off) => off());
}

/**
 * The DataSource of a child process: the example entities on the test's database (its schema
 * made by the parent's migrations), small pools (the server is shared by the whole run).
 */
export function childDataSource(url: string, before: Array<new () => EntitySubscriberInterface> = []): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: exampleEntities,
    subscribers: [...before, SignalsSubscriber],
    synchronize: false,
    migrationsRun: false,
    extra: { max: 4 },
  });
}

/** The child's database URL, or an error that says how the script is meant to run. */
export function childUrl(script: string): string {
  const url = process.env.DURABLE_DATABASE_URL;
  if (!url) throw new Error(`${script} is a child process of test/reliability/durable.reliability.ts: DURABLE_DATABASE_URL is not set`);
  return url;
}

/** pg-boss (ESM-only) through Node's require(esm), as an application on Node >= 20.19 can. */
export async function startChildBoss(url: string): Promise<import('pg-boss').PgBoss> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PgBoss } = require('pg-boss') as typeof import('pg-boss');
  const boss = new PgBoss({ connectionString: url, migrate: false, supervise: false, schedule: false, max: 2 });
  boss.on('error', (error: Error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();
  return boss;
}
