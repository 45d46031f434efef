/**
 * Compile-time tests of typeorm-signals/vitest's types: never run; test/unit/typecheck.test.ts
 * type-checks this project (test/vitest/tsconfig.json: vitest's types, no jest globals, so what
 * compiles here compiles through the vitest augmentation alone). Every `@ts-expect-error` must be a
 * real error.
 */
import { expect } from 'vitest';
import { postSave, Signal } from 'typeorm-signals';
import 'typeorm-signals/vitest';
import type { SignalRecord } from 'typeorm-signals/testing';

class User {
  email = '';
}
const invited = new Signal<{ email: string; admin: boolean }>({ name: 'invited' });

export function assertions(records: SignalRecord[]) {
  // On vitest's Assertion, with .not, returning void as vitest's own matchers do.
  const a: void = expect(records).toHaveSent(postSave, { sender: User, created: true, instance: expect.objectContaining({ email: 'a@x' }) });
  const b: void = expect(records).not.toHaveSentTimes(invited, 2, { email: 'a@x', admin: false });
  expect(records).toHaveSent(invited);
  void [a, b];

  // As asymmetric matchers, on vitest's expect (AsymmetricMatchersContaining).
  expect({ records }).toEqual({ records: expect.toHaveSent(invited, { email: 'a@x' }) });
  expect({ records }).toEqual({ records: expect.not.toHaveSentTimes(invited, 0) });

  // @ts-expect-error: a field that is not in the signal's payload (a typo) does not compile
  expect(records).toHaveSent(invited, { emial: 'a@x' });
  // @ts-expect-error: the first argument is a Signal, not its name
  expect(records).toHaveSent('invited');
  // @ts-expect-error: toHaveSentTimes needs the count
  expect(records).toHaveSentTimes(invited, { email: 'a@x' });
}
