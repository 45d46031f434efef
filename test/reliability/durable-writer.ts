/**
 * Child process of durable.reliability.ts: signs one user up (DURABLE_EMAIL) with the
 * 'welcome-mail' receiver connected twice, durable and phase 'commit', and is SIGKILLed by the
 * parent right after COMMIT. The kill point is exact: a subscriber listed before
 * SignalsSubscriber says `COMMITTED` in TypeORM's afterTransactionCommit and then blocks the
 * process, so nothing that runs after COMMIT (commit-phase receivers included) gets to run
 * before the kill, as when a deploy or an OOM kill lands there.
 *
 *   node -r ./test/reliability/ts-hook.cjs test/reliability/durable-writer.ts
 */
import { EventSubscriber, type EntitySubscriberInterface } from 'typeorm';
import { installSignals } from '../../src';
import { User } from '../../src/example/entities';
import { blockUntilKilled, childDataSource, childUrl, connectScenarioReceivers, say, startChildBoss } from './durable-fixture';

@EventSubscriber()
class DieRightAfterCommit implements EntitySubscriberInterface {
  afterTransactionCommit(): void {
    say('COMMITTED');
    blockUntilKilled();
  }
}

async function main(): Promise<void> {
  const url = childUrl('durable-writer.ts');
  const email = process.env.DURABLE_EMAIL;
  if (!email) throw new Error('durable-writer.ts: DURABLE_EMAIL is not set');
  const dataSource = childDataSource(url, [DieRightAfterCommit]);
  await dataSource.initialize();
  const boss = await startChildBoss(url);
  installSignals(dataSource, { durable: boss });
  connectScenarioReceivers({}, true);
  await dataSource.getRepository(User).save({ email, name: 'Killed writer' });
  say('NOT KILLED'); // unreachable when the kill point works
  process.exit(4);
}

main().catch((error: unknown) => {
  say(`ERROR ${(error as Error)?.name}: ${(error as Error)?.message}`);
  process.exit(1);
});
