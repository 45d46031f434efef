/**
 * Compile-time tests for the testing kit and the jest matchers. Never run: `tsc --noEmit` checks
 * this file (see test/unit/typecheck.test.ts); every `@ts-expect-error` must be a real error.
 */
import { Signal, checkSignals, describeSignals, postSave, withoutSignals, type SignalProblem } from '../../src';
import '../../src/jest';
import { captureSignals, flushOnCommit, type Captured, type SignalRecord } from '../../src/testing';
import type { DataSource, QueryRunner } from 'typeorm';

class User {
  id = 1;
}
const invited = new Signal<{ email: string; admin: boolean }>({ name: 'invited' });

async function kit(dataSource: DataSource, runner: QueryRunner) {
  // withoutSignals resolves to fn's result.
  const n: number = await withoutSignals(() => 1, { signals: [postSave, invited], senders: [User, 'User'] });
  const s: string = await withoutSignals(async () => 'x', { signals: postSave, senders: User });
  // @ts-expect-error: a typo in the options
  await withoutSignals(() => 1, { signal: [postSave] });
  // @ts-expect-error: senders are classes or names
  await withoutSignals(() => 1, { senders: [1] });

  const captured: Captured<number> = await captureSignals(() => 1, { signals: [invited] });
  const records: SignalRecord[] = captured.records;
  const first = records[0];
  const phase: 'transaction' | 'commit' | 'rollback' | 'durable' = first.phase;
  const flags: boolean[] = [first.batch, first.muted];
  const outcome = first.receivers[0];
  if (outcome.status === 'threw') void outcome.error;
  else void outcome.result;

  expect(records).toHaveSent(invited, { sender: User, email: 'a@example.com' });
  expect(captured).toHaveSent(invited, { admin: expect.any(Boolean) });
  expect(records).not.toHaveSentTimes(invited, 2, { sender: 'User' });
  expect(records).toHaveSent(postSave, { sender: User, created: true, updateFields: ['name'] });
  // @ts-expect-error: not a payload field of invited
  expect(records).toHaveSent(invited, { emial: 'a@example.com' });
  // @ts-expect-error: the count comes before the fields
  expect(records).toHaveSentTimes(invited, { sender: User });

  const flushed: number = await flushOnCommit(runner);
  await flushOnCommit(runner.manager);
  const problems: SignalProblem[] = checkSignals(dataSource);
  const code: 'unknown-sender' | 'unknown-data-source' | 'not-installed' | 'installed-twice' | 'duplicate-copy' | 'durable-unsupported' | 'durable-unbound' = problems[0].code;
  const names: string[] = describeSignals().map((d) => `${d.signal.name}: ${d.receivers.map((r) => r.phase).join()}`);
  return [n, s, phase, flags, flushed, code, names];
}
void kit;
