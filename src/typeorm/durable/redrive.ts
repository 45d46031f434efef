import type { DataSource, QueryRunner } from 'typeorm';
import { phaseOf } from '../phases';
import { requireBinding, runnerDb, type DurableDb } from './binding';
import type { JobData } from './enqueue';
import { resolve } from './run';

/**
 * pg-boss gives a job it redrives from a dead-letter queue the retry settings of the queue it
 * goes to, not those of the job it copies, so a durable job redriven with pg-boss's redrive()
 * retries with the queue's settings (pg-boss's defaults: 2 retries, no delay) instead of its
 * receiver's `retry`. The worker cannot mend that: it sees a job only once it has claimed it,
 * and pg-boss changes a job's retry settings only while the job waits (update()). So the redrive
 * does it, in the same transaction, while the copies wait.
 */

/**
 * The options of redriveDurable().
 *
 * @example
 * await redriveDurable(dataSource, { receiver: 'welcome-mail', limit: 500 });
 */
export interface RedriveDurableOptions {
  /** Only the dead-lettered jobs of this receiver (its `dispatchUid`). Default: every receiver's. */
  receiver?: string;
  /** At most this many jobs moved (pg-boss redrive()'s `limit`). Default 1000. */
  limit?: number;
}

/**
 * What redriveDurable() resolves to.
 *
 * @example
 * const { moved, withQueuePolicy }: RedriveDurableResult = await redriveDurable(dataSource);
 */
export interface RedriveDurableResult {
  /** Jobs moved from the dead-letter queue back to the durable queue. */
  moved: number;
  /** Redriven jobs waiting in the queue that now have their receiver's `retry` (those of earlier redrives included). */
  withReceiverPolicy: number;
  /** Redriven jobs waiting in the queue whose receiver is not connected in this process: they keep the queue's retry settings. */
  withQueuePolicy: number;
}

/** The pg-boss calls a redrive makes beyond DurableQueue's. */
interface RedriveQueue {
  redrive(name: string, options: { data?: object; limit?: number; db: DurableDb }): Promise<number>;
  findJobs(name: string, options: { data?: object; queued: true; limit: number; after?: string; db: DurableDb }): Promise<Array<{ id: string; data: unknown }>>;
  update(name: string, data: undefined, options: { id: string; retryLimit: number; retryDelay: number; retryBackoff: boolean; db: DurableDb }): Promise<unknown>;
}

const PAGE = 1000;
const optionKeys = new Set(['receiver', 'limit']);

/**
 * Moves the durable queue's dead-lettered jobs back to it (pg-boss's redrive()) and gives each
 * redriven job that waits there its receiver's `retry` policy, as connected in this process, in
 * one transaction of `dataSource`. Run it where the receivers are connected (a worker, or a
 * script that imports the same module); a job whose receiver is not connected here keeps the
 * queue's retry settings and is counted in `withQueuePolicy`. The receiver still gets the
 * original `deliveryId`, and `attempt` counts from 1 again.
 *
 * @example
 * connectReceivers(); // the same receivers as the workers
 * const { moved } = await redriveDurable(dataSource, { receiver: 'welcome-mail' });
 */
export async function redriveDurable(dataSource: DataSource, options: RedriveDurableOptions = {}): Promise<RedriveDurableResult> {
  const binding = requireBinding(dataSource, 'redriveDurable()', 'first');
  if (typeof options !== 'object' || options === null) throw new TypeError('redriveDurable(): options must be an object { receiver?, limit? }');
  for (const key of Object.keys(options)) {
    if (!optionKeys.has(key)) throw new TypeError(`redriveDurable(): unknown option "${key}" (known: receiver, limit)`);
  }
  if (options.receiver !== undefined && (typeof options.receiver !== 'string' || options.receiver === '')) {
    throw new TypeError(`redriveDurable(): "receiver" must be a dispatchUid (a non-empty string), got ${typeof options.receiver}`);
  }
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new TypeError(`redriveDurable(): "limit" must be a whole number > 0, got ${String(options.limit)}`);
  }
  const boss = binding.boss as unknown as Partial<RedriveQueue>;
  if (typeof boss.redrive !== 'function' || typeof boss.findJobs !== 'function' || typeof boss.update !== 'function') {
    throw new TypeError('redriveDurable(): the bound PgBoss instance has no redrive(), findJobs() and update() (pg-boss >= 12 has them)');
  }
  const queue = boss as RedriveQueue;
  await binding.ready();
  const filter = options.receiver === undefined ? {} : { data: { receiver: options.receiver } };
  const runner: QueryRunner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
    const db = runnerDb(runner);
    const moved = await queue.redrive(binding.deadLetter, { ...filter, ...(options.limit === undefined ? {} : { limit: options.limit }), db });
    const result: RedriveDurableResult = { moved, withReceiverPolicy: 0, withQueuePolicy: 0 };
    for (let after: string | undefined, more = moved > 0; more; ) {
      const page = await queue.findJobs(binding.queue, { ...filter, queued: true, limit: PAGE, ...(after === undefined ? {} : { after }), db });
      for (const job of page) {
        const data = job.data as Partial<JobData> | null;
        // An enqueued job's id is its deliveryId; a redrive gives the copy a new one.
        if (typeof data?.deliveryId !== 'string' || job.id === data.deliveryId) continue;
        let retry;
        try {
          retry = phaseOf(resolve(dataSource, data as JobData).connection).durable!.retry;
        } catch {
          result.withQueuePolicy++;
          continue;
        }
        await queue.update(binding.queue, undefined, { id: job.id, retryLimit: retry.limit, retryDelay: retry.delay, retryBackoff: retry.backoff, db });
        result.withReceiverPolicy++;
      }
      more = page.length === PAGE;
      after = page[page.length - 1]?.id;
    }
    await runner.commitTransaction();
    return result;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}
