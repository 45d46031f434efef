/**
 * Child process of durable.reliability.ts: a worker process as an application runs one. It
 * connects the scenario receivers, starts startSignalsWorker() and says `READY`; it stops
 * gracefully when its stdin closes. With DURABLE_BLOCK_INSIDE=1 the 'welcome-mail' receiver
 * blocks (after writing its effect row) for the parent to SIGKILL the process there.
 *
 *   node -r ./test/reliability/ts-hook.cjs test/reliability/durable-worker.ts
 */
import { startSignalsWorker } from '../../src';
import { childDataSource, childUrl, connectScenarioReceivers, say, startChildBoss } from './durable-fixture';

async function main(): Promise<void> {
  const url = childUrl('durable-worker.ts');
  const dataSource = childDataSource(url);
  await dataSource.initialize();
  const boss = await startChildBoss(url);
  connectScenarioReceivers({ blockInside: process.env.DURABLE_BLOCK_INSIDE === '1' });
  const worker = await startSignalsWorker(dataSource, {
    boss,
    concurrency: Number(process.env.DURABLE_CONCURRENCY ?? 1),
    batchSize: Number(process.env.DURABLE_BATCH_SIZE ?? 50),
    pollInterval: 0.05,
    onError: (error) => say(`WORKER-ERROR ${error.name}: ${error.message}`),
  });
  say('READY');
  process.stdin.resume();
  process.stdin.once('end', () => {
    void (async () => {
      await worker.stop();
      await boss.stop({ graceful: false, close: true });
      await dataSource.destroy();
      say('STOPPED');
      process.exit(0);
    })();
  });
}

main().catch((error: unknown) => {
  say(`ERROR ${(error as Error)?.name}: ${(error as Error)?.message}`);
  process.exit(1);
});
