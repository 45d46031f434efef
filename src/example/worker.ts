/**
 * The example's worker process: runs the durable receivers (the welcome mail) for the jobs that
 * committed writes enqueued, until SIGTERM or SIGINT, then stops gracefully (a running job
 * finishes and commits; nothing new is claimed). Any number of them may run, on any machine:
 * pg-boss claims with SKIP LOCKED.
 *
 *   DATABASE_URL=postgres://... npx ts-node --transpile-only src/example/worker.ts
 *
 * The database must be migrated first (npm run migration:run): the migrations own pg-boss's
 * schema, so pg-boss starts with migrate: false. docker-compose.yml's `worker` service runs this.
 */
import 'reflect-metadata';
import { startSignalsWorker } from '../index';
import { createExampleDataSource } from './data-source';
import { connectExampleReceivers, connectWelcomeMail } from './receivers';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('src/example/worker.ts needs DATABASE_URL (postgres://...): a worker claims jobs beside the application, which PGlite cannot serve');
  const dataSource = createExampleDataSource({ url });
  await dataSource.initialize();
  // pg-boss is ESM-only; Node >= 20.19 loads it with require().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PgBoss } = require('pg-boss') as typeof import('pg-boss');
  const boss = new PgBoss({ connectionString: url, migrate: false });
  boss.on('error', (error: Error) => console.error(`pg-boss: ${error.name}: ${error.message}`));
  await boss.start();
  // The same receivers as the application's processes: jobs name their receiver by dispatchUid.
  connectExampleReceivers();
  connectWelcomeMail();
  const worker = await startSignalsWorker(dataSource, { boss, concurrency: 2, batchSize: 50 });
  console.log(`worker ${process.pid}: running the durable receivers`);
  const stop = async (signal: string) => {
    console.log(`worker ${process.pid}: ${signal}, finishing the running jobs`);
    await worker.stop();
    await boss.stop({ graceful: true, close: true });
    await dataSource.destroy();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
