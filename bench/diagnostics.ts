/**
 * (l) What the diagnostics cost on the write path: the other-connection check
 * (src/typeorm/other-connection.ts) against the same dispatch with the check switched off. Its
 * worst case is a transaction-phase receiver that runs a query itself, through the payload's
 * manager as it should: every save() opens a Watch, and every query of the write (BEGIN, the
 * INSERT, the receiver's SELECT, COMMIT) finds the subscriber's query hooks present and asks
 * whether it runs on another connection. One save() per transaction, so the per-write part shows.
 *
 *   BENCH_ONLY=l npm run bench
 */
import type { EntityManager } from 'typeorm';
import { postSave } from '../src';
import { User } from '../src/example/entities';
import { otherConnectionCheck } from '../src/typeorm/other-connection';
import type { ComparisonDef } from './run';
import { calls, singleSaves, type Operation } from './variants';

/** n x save(user), each with a transaction-phase receiver that runs one query through its manager. */
function savesWithQueryingReceiver(check: boolean): Operation {
  const base = singleSaves(undefined);
  return {
    ...base,
    connect: () => {
      otherConnectionCheck.enabled = check;
      const off = postSave.connect(
        async ({ manager }: { manager: EntityManager }) => {
          calls.receiver++;
          await manager.query('SELECT 1');
        },
        { sender: User },
      );
      return () => {
        off();
        otherConnectionCheck.enabled = true;
      };
    },
    expect: { ...base.expect, receiver: (n) => n },
  };
}

/** The comparison run.ts adds to its list. */
export function diagnosticsComparison(saves: number, rounds: number, reps: number, fmt: (n: number) => string): ComparisonDef {
  return {
    id: 'l',
    title: 'other-connection check (issue 14 item 5) on vs. off, receiver querying through its manager',
    sizes: [saves],
    rounds: () => rounds,
    reps: () => reps,
    unit: (n) => `${fmt(n)} x save(user)`,
    variants: [
      { key: 'check-off', label: 'check switched off', subscribers: 'signals', op: savesWithQueryingReceiver(false) },
      { key: 'check-on', label: 'check on (the default)', subscribers: 'signals', op: savesWithQueryingReceiver(true) },
    ],
    ratios: [{ num: 'check-on', den: 'check-off', label: 'check on / off', perCall: true }],
  };
}
