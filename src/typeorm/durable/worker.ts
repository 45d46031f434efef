import type { DataSource } from 'typeorm';
import { SignalsError } from '../../signals/errors';
import { trace } from '../../signals/trace';
import { bindQueue, bindingOf, checkQueue, describeDataSource, type Binding } from './binding';
import { checkNotify, listenForJobs, type JobListener } from './listener';
import { runBatch } from './run';

/**
 * The options of startSignalsWorker().
 *
 * @example
 * const worker = await startSignalsWorker(dataSource, { boss, concurrency: 4, batchSize: 50 });
 */
export interface SignalsWorkerOptions {
  /** The application's started PgBoss instance (the same database as the DataSource). */
  boss: unknown;
  /** Batches run at once, each in its own transaction and connection. Default 1. */
  concurrency?: number;
  /** Jobs claimed per batch (and per transaction). Default 50. */
  batchSize?: number;
  /**
   * Seconds between looks at an empty queue. Default 0.5. A full batch fetches again at once, and
   * with `listen` a committed job ends the wait at once: polling is then the backstop.
   */
  pollInterval?: number;
  /**
   * LISTEN for new jobs on a dedicated connection (pg-boss's own listener, through
   * `boss.getDb()`), so a job is fetched as soon as its write commits instead of at the next poll.
   * Needs the queue's `notify` (the migration's queue has it) and a session connection, not
   * PgBouncer in transaction mode. If the listener cannot start, `onError` hears why and the
   * worker polls; a dropped listener reconnects by itself. Default true.
   */
  listen?: boolean;
  /**
   * Where errors that are not a receiver's go (the database going away, ...); the loop waits a
   * poll interval and goes on. Default: console.error with the error's name and message.
   */
  onError?: (error: Error) => void;
}

/**
 * A running worker.
 *
 * @example
 * const worker = await startSignalsWorker(dataSource, { boss });
 * process.once('SIGTERM', () => void worker.stop());
 */
export interface SignalsWorker {
  /** Stops claiming jobs and resolves once the running batches have finished (and committed). */
  stop(): Promise<void>;
}

/** @internal An option that must be a (whole) number > 0; a TypeError naming `where` and the option otherwise. */
export function positiveOption(where: string, value: unknown, name: string, integer: boolean, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || (integer && !Number.isInteger(value)) || !Number.isFinite(value)) {
    throw new TypeError(`${where}: "${name}" must be a ${integer ? 'whole ' : ''}number > 0, got ${String(value)}`);
  }
  return value;
}

const positive = (value: unknown, name: string, integer: boolean, fallback: number) => positiveOption('startSignalsWorker()', value, name, integer, fallback);

const workerKeys = new Set(['boss', 'concurrency', 'batchSize', 'pollInterval', 'listen', 'onError']);

/**
 * Runs the durable receivers connected in this process for the jobs that committed writes
 * enqueued. Each batch of jobs runs in one transaction on `dataSource`: claim, the receivers
 * with that transaction's `manager` (together in one savepoint; when one throws, the others run
 * again one savepoint each, see docs/durable.md), complete, COMMIT. Connect the
 * same receivers as the writing processes before starting it (a job whose receiver is not
 * connected here fails and is retried). Binds `boss` to the DataSource like installSignals(),
 * so durable receivers of the receivers' own writes are enqueued too. An empty queue is watched
 * with LISTEN (option `listen`) and looked at every `pollInterval` as a backstop; the listener
 * holds one extra connection to the database until stop().
 *
 * @example
 * await dataSource.initialize();
 * const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, migrate: false });
 * await boss.start();
 * connectReceivers(); // the same module the web process imports
 * const worker = await startSignalsWorker(dataSource, { boss, concurrency: 2 });
 * process.once('SIGTERM', async () => {
 *   await worker.stop();
 *   await boss.stop();
 *   await dataSource.destroy();
 * });
 */
export async function startSignalsWorker(dataSource: DataSource, options: SignalsWorkerOptions): Promise<SignalsWorker> {
  if (typeof options !== 'object' || options === null) throw new TypeError('startSignalsWorker(): expected options { boss, concurrency?, batchSize? }');
  for (const key of Object.keys(options)) {
    if (!workerKeys.has(key)) throw new TypeError(`startSignalsWorker(): unknown option "${key}" (known: ${[...workerKeys].join(', ')})`);
  }
  if (!dataSource?.isInitialized) throw new SignalsError('startSignalsWorker(): the DataSource is not initialized; call dataSource.initialize() first');
  const boss = checkQueue(options.boss, 'startSignalsWorker()', 'boss');
  const concurrency = positive(options.concurrency, 'concurrency', true, 1);
  const batchSize = positive(options.batchSize, 'batchSize', true, 50);
  const pollMs = positive(options.pollInterval, 'pollInterval', false, 0.5) * 1000;
  if (options.listen !== undefined && typeof options.listen !== 'boolean') {
    throw new TypeError(`startSignalsWorker(): "listen" must be a boolean, got ${String(options.listen)}`);
  }
  const onError =
    options.onError ?? ((error: Error) => console.error(`typeorm-signals worker on ${describeDataSource(dataSource)}: ${error.name}: ${error.message}`));
  const existing = bindingOf(dataSource);
  if (existing && existing.boss !== boss) {
    throw new SignalsError(`startSignalsWorker(): ${describeDataSource(dataSource)} is bound to another PgBoss instance (installSignals); pass that one`);
  }
  const unbind = existing ? () => undefined : bindQueue(dataSource, boss);
  const binding = bindingOf(dataSource) as Binding;
  await binding.ready();

  let stopping = false;
  /** Notifications so far: a loop whose batch began before the latest one fetches again at once. */
  let wakes = 0;
  const sleepers = new Set<() => void>();
  // One sleeping loop per notification (a write's jobs are one NOTIFY): waking every loop sent
  // concurrency - 1 fetches that came back empty. A loop that claims a full batch wakes the next
  // at once, so a backlog still gets every loop.
  const wakeOne = () => {
    for (const wake of sleepers) return wake();
  };
  const onNotification = () => {
    wakes++;
    wakeOne();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  async function loop(): Promise<void> {
    while (!stopping) {
      const seen = wakes;
      try {
        // a full claim: there may be more waiting, so another loop fetches while this one runs
        const { fetched } = await runBatch(dataSource, binding, batchSize, (claimed) => claimed === batchSize && wakeOne());
        // a job that committed during this batch may not have been visible to its fetch
        if (fetched < batchSize && !stopping && wakes === seen) await sleep(pollMs);
      } catch (error) {
        onError(error instanceof Error ? error : new Error(String(error)));
        if (!stopping) await sleep(pollMs);
      }
    }
  }
  let listener: JobListener | undefined;
  if (options.listen !== false) {
    await checkNotify(boss, binding.queue, onError).catch((error: unknown) => onError(error instanceof Error ? error : new Error(String(error))));
    listener = await listenForJobs(boss, binding.queue, onNotification, onError);
  }
  if (trace.enabled) trace.note(`durable worker started on "${binding.queue}": concurrency ${concurrency}, batchSize ${batchSize}, ${listener ? 'listening' : 'polling only'}`);
  const loops = Array.from({ length: concurrency }, () => loop());
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        for (const wake of [...sleepers]) wake();
        await Promise.all([listener?.close(), ...loops]);
        unbind();
        if (trace.enabled) trace.note(`durable worker on "${binding.queue}" stopped`);
      })();
      return stopped;
    },
  };
}
