import { createHash } from 'node:crypto';
import { SignalsError } from '../../signals/errors';
import { trace } from '../../signals/trace';
import type { DurableQueue } from './binding';

/**
 * The worker's wake-up: a LISTEN on the channel pg-boss NOTIFYs when it inserts jobs into a
 * queue created with `notify: true`. The NOTIFY is part of the job INSERT, which runs in the
 * write's own transaction, so PostgreSQL delivers it at COMMIT and drops it on a rollback (of the
 * transaction or of the savepoint the insert ran in). A notification is only a hint to fetch
 * now: the worker keeps polling, which covers a lost listener and a queue without `notify`.
 *
 * The connection is pg-boss's own listener (`boss.getDb().listen`, the adapter capability its
 * `useListenNotify` uses): a dedicated client with TCP keepalive and a heartbeat, which
 * reconnects with back-off and calls back once it listens again, so jobs committed while it was
 * down are fetched at once.
 */

/** pg-boss's `IDatabase.listen` (pg-boss >= 12.x): its own pool implements it; adapters may. */
interface ListeningDb {
  listen?(channel: string, onNotification: (payload: string) => void, onReconnect: () => void): Promise<{ close(): Promise<void> }>;
  config?: { schema?: unknown };
}

/** @internal A running listener; close() releases its connection. */
export interface JobListener {
  close(): Promise<void>;
}

/**
 * pg-boss's channel for a schema: `'pgboss_' || left(encode(sha224(schema::bytea), 'hex'), 24)`
 * (plans.notifyChannelSql, not exported), with a redundantly quoted name unquoted first as
 * pg-boss's normalizeSchemaName does. The wake-up test fails if a pg-boss release changes it.
 */
export function notifyChannel(schema: string): string {
  const name = /^"[a-z_][a-z0-9_]*"$/.test(schema) ? schema.slice(1, -1) : schema;
  return `pgboss_${createHash('sha224').update(name).digest('hex').slice(0, 24)}`;
}

/**
 * Listens for new jobs of `queue`; `wake` runs on each notification for it and after every
 * (re)connect. Resolves to undefined, after telling `onError` why, when no listener can be had:
 * the worker then only polls.
 */
export async function listenForJobs(boss: DurableQueue, queue: string, wake: () => void, onError: (error: Error) => void): Promise<JobListener | undefined> {
  const db = (typeof boss.getDb === 'function' ? boss.getDb() : undefined) as ListeningDb | undefined;
  if (typeof db?.listen !== 'function') {
    if (trace.enabled) trace.note(`durable worker on "${queue}": pg-boss's database adapter has no listen(); polling only`);
    return undefined;
  }
  const schema = typeof db.config?.schema === 'string' ? db.config.schema : 'pgboss';
  const channel = notifyChannel(schema);
  try {
    const handle = await db.listen(channel, (payload) => payload === queue && wake(), wake);
    if (trace.enabled) trace.note(`durable worker on "${queue}": listening on "${channel}" (pg-boss schema "${schema}")`);
    return handle;
  } catch (error) {
    onError(
      new SignalsError(
        `durable worker on "${queue}": could not LISTEN for new jobs (${(error as Error)?.message ?? String(error)}); ` +
          'polling only, every pollInterval. A PgBouncer in transaction mode cannot LISTEN: give the worker a direct connection',
        { cause: error },
      ),
    );
    return undefined;
  }
}

/**
 * Whether pg-boss NOTIFYs for `queue`; reports through `onError` when it does not, since the
 * worker then waits up to a poll interval for each job.
 */
export async function checkNotify(boss: DurableQueue, queue: string, onError: (error: Error) => void): Promise<void> {
  const row = (await boss.getQueue(queue)) as { notify?: unknown } | null;
  if (row && row.notify === false) {
    onError(
      new SignalsError(
        `durable queue "${queue}" was created without notify, so pg-boss sends no NOTIFY for its jobs and the worker ` +
          `finds them by polling only. Turn it on in a migration: UPDATE <pg-boss schema>.queue SET notify = true WHERE name = '${queue}'`,
      ),
    );
  }
}
