import type { EntityManager, QueryRunner } from 'typeorm';
import { SignalsError } from '../signals/errors';
import { runnerOf, takeCommitWork } from '../typeorm/transactions';

/** Rounds of "run the queued work, then look again" before giving up on a receiver that re-queues forever. */
const MAX_ROUNDS = 100;

/**
 * Runs now the commit-phase work queued so far on this transaction: commit-phase receivers of
 * the writes made through it and onCommit() callbacks, in the order they were queued (Django's
 * `captureOnCommitCallbacks(execute=True)`). For suites that wrap each test in a transaction
 * that is rolled back, where the COMMIT that would run them never comes.
 *
 * The work is taken off the transaction, so it cannot run a second time; rollback-phase work
 * stays queued and runs on the rollback as usual. Work queued by the flushed work on the same
 * transaction is run too. Each task runs as it would after a COMMIT: receivers get the
 * DataSource's manager (not the test transaction's) and their failures are reported, not thrown.
 * Resolves to the number of tasks run.
 *
 * @param managerOrQueryRunner the QueryRunner of the test transaction, or an EntityManager bound
 *   to it (`queryRunner.manager`, or the manager `dataSource.transaction()` passes its callback).
 *
 * @example
 * const runner = dataSource.createQueryRunner();
 * await runner.startTransaction();
 * await runner.manager.save(User, { email: 'ada@example.com' });
 * await flushOnCommit(runner); // commit receivers run now
 * await runner.rollbackTransaction();
 */
export async function flushOnCommit(managerOrQueryRunner: EntityManager | QueryRunner): Promise<number> {
  const runner = requireRunner(managerOrQueryRunner);
  let ran = 0;
  for (let round = 0; ; round++) {
    const tasks = takeCommitWork(runner);
    if (tasks.length === 0) return ran;
    if (round === MAX_ROUNDS) {
      throw new SignalsError(
        `flushOnCommit(): commit work kept queueing more commit work after ${MAX_ROUNDS} rounds (${ran} tasks run); ` +
          'a commit receiver or onCommit() callback probably re-queues itself',
      );
    }
    for (const task of tasks) {
      await task();
      ran++;
    }
  }
}

function requireRunner(target: EntityManager | QueryRunner): QueryRunner {
  const runner = runnerOf(target, 'flushOnCommit');
  if (runner === undefined) {
    throw new TypeError(
      "flushOnCommit(): this EntityManager is not bound to a QueryRunner (it is the DataSource's manager, whose " +
        'writes commit at once); pass the QueryRunner of the test transaction or its manager',
    );
  }
  return runner;
}
