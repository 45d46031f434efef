import type { DataSource } from 'typeorm';
import { SignalsError } from '../signals/errors';
import { requireBinding } from '../typeorm/durable/binding';
import { runBatch } from '../typeorm/durable/run';
import { positiveOption } from '../typeorm/durable/worker';

/**
 * What drainDurable() resolves to.
 *
 * @example
 * const { ran, failed }: DrainResult = await drainDurable(dataSource);
 */
export interface DrainResult {
  /** Jobs whose receiver returned (now completed). */
  ran: number;
  /** Failed attempts (a receiver threw, or none is connected for the job); each is retried or dead-lettered per its policy. */
  failed: number;
}

/** Batches before drainDurable() gives up on receivers that keep enqueueing more work. */
const MAX_BATCHES = 1000;

/**
 * Runs every durable job that is due on the DataSource's queue, in this process and on the
 * test's database, exactly as a worker would: claimed from the job table (so the payload has
 * made the same JSON round trip as in production), each receiver in the claim's transaction,
 * completed or failed. Jobs enqueued by the receivers run too; a failed job whose retry is due
 * at once (`retry: { delay: 0 }`) is retried until its limit, one with a delay waits for a later
 * drain. Needs installSignals(dataSource, { durable: boss }) and committed writes: jobs of a
 * transaction that is still open are not visible to it.
 *
 * @example
 * await users.save({ email: 'ada@example.com' });
 * expect(await drainDurable(dataSource)).toEqual({ ran: 1, failed: 0 });
 */
export async function drainDurable(dataSource: DataSource, options: { batchSize?: number } = {}): Promise<DrainResult> {
  const binding = requireBinding(dataSource, 'drainDurable()', 'in the test set-up');
  if (typeof options !== 'object' || options === null) throw new TypeError('drainDurable(): options must be an object { batchSize? }');
  for (const key of Object.keys(options)) {
    if (key !== 'batchSize') throw new TypeError(`drainDurable(): unknown option "${key}" (known: batchSize)`);
  }
  const batchSize = positiveOption('drainDurable()', options.batchSize, 'batchSize', true, 100);
  await binding.ready();
  const result: DrainResult = { ran: 0, failed: 0 };
  for (let i = 0; i < MAX_BATCHES; i++) {
    const outcome = await runBatch(dataSource, binding, batchSize);
    result.ran += outcome.ran;
    result.failed += outcome.failed;
    if (outcome.fetched === 0) return result;
  }
  throw new SignalsError(`drainDurable(): jobs kept coming after ${MAX_BATCHES} batches (${result.ran} ran); a durable receiver probably re-enqueues work forever`);
}
