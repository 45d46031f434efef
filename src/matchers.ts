/**
 * typeorm-signals/matchers: `toHaveSent` and `toHaveSentTimes` for the records of
 * captureSignals(), as plain functions with no import of any test runner.
 *
 * `expect.extend(signalMatchers)` registers them in any runner with jest-style matchers (bun
 * test, vitest, jest). `typeorm-signals/jest` and `typeorm-signals/vitest` register these same
 * functions on their runner's `expect` and declare their types there.
 */
import { describeFunction } from './signals/errors';
import { Signal } from './signals/signal';
import type { Sender } from './signals/types';
import type { SignalRecord } from './testing/capture';

/**
 * What `toHaveSent` matches: `sender` (a class or entity name), plus payload fields, compared
 * with the runner's equality (asymmetric matchers such as `expect.objectContaining` allowed).
 *
 * @example
 * expect(records).toHaveSent(postSave, { sender: User, created: true, instance: expect.objectContaining({ email: 'ada@example.com' }) });
 */
export type SentExpectation<P = Record<string, unknown>> = {
  /** The sender (a class or entity name) the send must have been made for. */
  sender?: Sender;
} & { [K in keyof P]?: unknown };

/**
 * The slice of the runner's matcher context the matchers use (the `this` of a matcher in jest,
 * vitest and bun; no dependency on their types).
 *
 * @example
 * const context: MatcherContext = { isNot: false, equals: (a, b) => Object.is(a, b) };
 * toHaveSent.call(context, records, postSave, { sender: User });
 */
export interface MatcherContext {
  /** Whether the matcher runs under `.not`. */
  isNot?: boolean;
  /** The runner's deep equality (recursive, asymmetric matchers allowed). */
  equals(a: unknown, b: unknown): boolean;
}

/**
 * What a matcher returns to the runner.
 *
 * @example
 * const result: MatcherResult = toHaveSent.call(context, records, postSave);
 * if (!result.pass) console.log(result.message());
 */
export interface MatcherResult {
  /** Whether the expectation held. */
  pass: boolean;
  /** The failure message (built only when the runner shows it). */
  message(): string;
}

/** How many sends a failure message lists before "... and N more". */
const LISTED = 20;

function recordsOf(received: unknown, matcher: string): readonly SignalRecord[] {
  const list = Array.isArray(received)
    ? received
    : typeof received === 'object' && received !== null && Array.isArray((received as { records?: unknown }).records)
      ? (received as { records: unknown[] }).records
      : undefined;
  if (list === undefined || !list.every(isRecord)) {
    throw new TypeError(
      `expect(received).${matcher}(): received must be the records of captureSignals() (or the { result, records } it resolves to), got ${describeValue(received)}`,
    );
  }
  return list;
}

function isRecord(value: unknown): value is SignalRecord {
  return typeof value === 'object' && value !== null && (value as SignalRecord).signal instanceof Signal && Array.isArray((value as SignalRecord).receivers);
}

function checkSignal(signal: unknown, matcher: string): asserts signal is Signal<any> {
  if (!(signal instanceof Signal)) {
    throw new TypeError(`expect(records).${matcher}(): the first argument must be a Signal (postSave, ...), got ${describeValue(signal)}`);
  }
}

function checkExpectation(expected: unknown, matcher: string): asserts expected is SentExpectation | undefined {
  if (expected === undefined) return;
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
    throw new TypeError(`expect(records).${matcher}(): the expected fields must be an object such as { sender: User, created: true }, got ${describeValue(expected)}`);
  }
  const sender = (expected as { sender?: unknown }).sender;
  if (sender !== undefined && ((typeof sender !== 'function' && typeof sender !== 'string') || sender === '')) {
    throw new TypeError(`expect(records).${matcher}(): "sender" must be a class or an entity name string, got ${describeValue(sender)}`);
  }
}

/** The sends the matchers count: one per row (or plain send) in the transaction phase, no batch calls; matches() leaves out muted ones. */
function counted(records: readonly SignalRecord[]): SignalRecord[] {
  return records.filter((r) => r.phase === 'transaction' && !r.batch);
}

function matches(ctx: MatcherContext, record: SignalRecord, signal: Signal<any>, expected: SentExpectation | undefined): boolean {
  if (record.signal !== signal || record.muted) return false;
  if (expected === undefined) return true;
  for (const key of Object.keys(expected)) {
    const want = (expected as Record<string, unknown>)[key];
    if (key === 'sender') {
      if (want !== undefined && !signal.senderMatches(want as Sender, record.sender)) return false;
      continue;
    }
    if (!(key in record.payload) || !ctx.equals(record.payload[key], want)) return false;
  }
  return true;
}

/**
 * Passes when `signal` was sent (not muted) at least once, with this sender and these payload
 * fields when given. Counts one send per row: a batch receiver's call is not a send of its own.
 *
 * @example
 * expect(records).toHaveSent(postSave, { sender: User, created: true });
 */
export function toHaveSent(this: MatcherContext, received: unknown, signal: Signal<any>, expected?: SentExpectation): MatcherResult {
  const records = recordsOf(received, 'toHaveSent');
  checkSignal(signal, 'toHaveSent');
  checkExpectation(expected, 'toHaveSent');
  const sends = counted(records);
  const hits = sends.filter((r) => matches(this, r, signal, expected));
  const call = `expect(records)${this.isNot ? '.not' : ''}.toHaveSent(${signal.name}${expected ? ', expected' : ''})`;
  const what = describeExpectation(signal, expected);
  const pass = hits.length > 0;
  return {
    pass,
    message: () =>
      pass
        ? `${call}\n\nExpected ${what} not to be sent, but it was sent ${times(hits.length)}:\n${list(hits, expected)}`
        : `${call}\n\nExpected ${what} to be sent, but it was not. ${sentInstead(sends, signal, expected)}`,
  };
}

/**
 * Passes when `signal` was sent (not muted) exactly `count` times, counting only the sends that
 * match `expected` when given. One send per row: saving 3 users in one save() is 3 sends.
 *
 * @example
 * expect(records).toHaveSentTimes(postSave, 3, { sender: User });
 */
export function toHaveSentTimes(
  this: MatcherContext,
  received: unknown,
  signal: Signal<any>,
  count: number,
  expected?: SentExpectation,
): MatcherResult {
  const records = recordsOf(received, 'toHaveSentTimes');
  checkSignal(signal, 'toHaveSentTimes');
  if (!Number.isInteger(count) || count < 0) {
    throw new TypeError(`expect(records).toHaveSentTimes(): the count must be a whole number >= 0, got ${describeValue(count)}`);
  }
  checkExpectation(expected, 'toHaveSentTimes');
  const sends = counted(records);
  const hits = sends.filter((r) => matches(this, r, signal, expected));
  const call = `expect(records)${this.isNot ? '.not' : ''}.toHaveSentTimes(${signal.name}, ${count}${expected ? ', expected' : ''})`;
  const what = describeExpectation(signal, expected);
  const pass = hits.length === count;
  return {
    pass,
    message: () =>
      pass
        ? `${call}\n\nExpected ${what} not to be sent ${times(count)}, but it was.`
        : `${call}\n\nExpected ${what} to be sent ${times(count)}, but it was sent ${times(hits.length)}. ${sentInstead(sends, signal, expected)}`,
  };
}

/**
 * The matchers as a plain object, for `expect.extend(signalMatchers)` in any test runner whose
 * `expect` takes jest-style matchers: vitest, bun test, jest (with `@jest/globals`). This module
 * imports no test runner; `typeorm-signals/jest` and `typeorm-signals/vitest` register the same
 * functions for you.
 *
 * @example
 * import { expect } from 'vitest'; // bun test: from 'bun:test'
 * import { signalMatchers } from 'typeorm-signals/matchers';
 * expect.extend(signalMatchers);
 */
export const signalMatchers = {
  /** See {@link toHaveSent}. */
  toHaveSent,
  /** See {@link toHaveSentTimes}. */
  toHaveSentTimes,
};

/**
 * The matchers as methods of an assertion, `R` being what the runner's assertion methods return.
 * `typeorm-signals/jest` adds them to `jest.Matchers`, `typeorm-signals/vitest` to vitest's
 * `Assertion` and `AsymmetricMatchersContaining`; for another runner, extend its matcher
 * interface with it.
 *
 * @example
 * // What typeorm-signals/vitest declares for vitest; for bun test, the same on bun's
 * // `interface Matchers<T>` in `declare module 'bun:test'`.
 * import type { SignalAssertions } from 'typeorm-signals/matchers';
 * declare module 'vitest' {
 *   interface Assertion<T = any> extends SignalAssertions<void> {}
 * }
 */
export interface SignalAssertions<R = unknown> {
  /**
   * The captured records hold a send of `signal` (not muted) with this sender and these
   * payload fields, if given. One send per row; batch calls are not counted.
   *
   * @example
   * expect(records).toHaveSent(postSave, { sender: User, created: true });
   */
  toHaveSent<P extends object>(signal: Signal<P>, expected?: SentExpectation<P>): R;
  /**
   * The captured records hold exactly `count` sends of `signal` (not muted) that match `expected`.
   *
   * @example
   * expect(records).toHaveSentTimes(postSave, 2, { sender: User });
   */
  toHaveSentTimes<P extends object>(signal: Signal<P>, count: number, expected?: SentExpectation<P>): R;
}

function times(n: number): string {
  return n === 1 ? '1 time' : `${n} times`;
}

function describeExpectation(signal: Signal<any>, expected: SentExpectation | undefined): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(expected ?? {})) {
    parts.push(key === 'sender' ? `sender ${describeFunction(value)}` : `${key}: ${describeExpected(value, 0)}`);
  }
  return parts.length ? `${signal.name} with ${parts.join(', ')}` : signal.name;
}

/**
 * The sends a failure lists: those of the asked signal (all of them when it was never sent), and
 * a count of the others, so that a preSave or postLoad does not hide the postSave that differs.
 */
function sentInstead(sends: readonly SignalRecord[], signal: Signal<any>, expected: SentExpectation | undefined): string {
  if (sends.length === 0) return 'Nothing was sent.';
  const own = sends.filter((r) => r.signal === signal);
  if (own.length === 0) return `${signal.name} was not sent at all. Sent (${sends.length}):\n${list(sends, expected)}`;
  const others = new Map<string, number>();
  for (const r of sends) if (r.signal !== signal) others.set(r.signal.name, (others.get(r.signal.name) ?? 0) + 1);
  const also = others.size ? `\n  (also sent: ${[...others].map(([name, n]) => `${name} x${n}`).join(', ')})` : '';
  return `Sent (${others.size ? `${own.length} ${signal.name}` : own.length}):\n${list(own, expected)}${also}`;
}

/**
 * One line per send: signal, sender, and the actual value of each expected payload field, looked
 * into only as deep as the expectation goes (`instance: { email }` shows the instance's email),
 * so that entities are never printed whole.
 */
function list(sends: readonly SignalRecord[], expected: SentExpectation | undefined): string {
  const keys = Object.keys(expected ?? {}).filter((k) => k !== 'sender');
  const wanted = (expected ?? {}) as Record<string, unknown>;
  const lines = sends.slice(0, LISTED).map((r, i) => {
    const fields = keys.map((k) => ` ${k}=${k in r.payload ? describeActual(r.payload[k], wanted[k], 0) : '(absent)'}`).join('');
    return `  ${i + 1}. ${r.signal.name} sender=${describeFunction(r.sender)}${fields}${r.muted ? ' (muted)' : ''}`;
  });
  if (sends.length > LISTED) lines.push(`  ... and ${sends.length - LISTED} more`);
  return lines.join('\n');
}

/** How deep an expectation is followed into the actual value, and how many array elements are shown. */
const DEPTH = 3;
const ELEMENTS = 10;

interface AsymmetricLike {
  asymmetricMatch(other: unknown): boolean;
  sample?: unknown;
  toString(): string;
  toAsymmetricMatcher?: () => string;
}

function isAsymmetric(value: unknown): value is AsymmetricLike {
  return typeof value === 'object' && value !== null && typeof (value as AsymmetricLike).asymmetricMatch === 'function';
}

/** The keys an expectation names inside an object: a plain object's own, or objectContaining's sample's. */
function expectedKeys(expected: unknown): Record<string, unknown> | undefined {
  if (isAsymmetric(expected)) {
    const sample = expected.sample;
    return /ObjectContaining/.test(expected.toString()) && isPlainObject(sample) ? sample : undefined;
  }
  return isPlainObject(expected) ? expected : undefined;
}

/** The elements an expectation names inside an array: an array's own, or arrayContaining's sample's. */
function expectedElements(expected: unknown): readonly unknown[] | undefined {
  if (Array.isArray(expected)) return expected;
  if (isAsymmetric(expected) && /ArrayContaining/.test(expected.toString()) && Array.isArray(expected.sample)) return expected.sample;
  return undefined;
}

/** The actual value of an expected field, as far as the expectation looks into it. */
function describeActual(actual: unknown, expected: unknown, depth: number): string {
  if (typeof actual !== 'object' || actual === null || actual instanceof Date) return short(actual);
  if (Array.isArray(actual)) {
    const elements = expectedElements(expected);
    if (elements === undefined && actual.some((v) => typeof v === 'object' && v !== null)) return short(actual);
    if (depth >= DEPTH) return short(actual);
    // Each element against the expected element at its index, else the first one (arrayContaining).
    const shown = actual.slice(0, ELEMENTS).map((v, i) => describeActual(v, elements?.[i] ?? elements?.[0], depth + 1));
    return `[${shown.join(', ')}${actual.length > ELEMENTS ? `, ... ${actual.length - ELEMENTS} more` : ''}]`;
  }
  const keys = expectedKeys(expected);
  if (keys === undefined || depth >= DEPTH) return short(actual);
  const object = actual as Record<string, unknown>;
  const fields = Object.keys(keys).map((k) => `${k}: ${k in object ? describeActual(object[k], keys[k], depth + 1) : '(absent)'}`);
  return `${className(actual)}{${fields.join(', ')}}`;
}

/** An expectation as the user wrote it; the same depth limit as describeActual. */
function describeExpected(expected: unknown, depth: number): string {
  if (isAsymmetric(expected)) {
    if (typeof expected.toAsymmetricMatcher === 'function') return expected.toAsymmetricMatcher();
    const name = expected.toString();
    const sample = expected.sample;
    return sample !== undefined && depth < DEPTH && (isPlainObject(sample) || Array.isArray(sample)) ? `${name}(${describeExpected(sample, depth + 1)})` : name;
  }
  if (Array.isArray(expected)) {
    if (depth >= DEPTH) return short(expected);
    const shown = expected.slice(0, ELEMENTS).map((v) => describeExpected(v, depth + 1));
    return `[${shown.join(', ')}${expected.length > ELEMENTS ? `, ... ${expected.length - ELEMENTS} more` : ''}]`;
  }
  if (isPlainObject(expected) && depth < DEPTH) {
    return `{${Object.entries(expected).map(([k, v]) => `${k}: ${describeExpected(v, depth + 1)}`).join(', ')}}`;
  }
  return short(expected);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** "User " for an entity, "" for a plain object. */
function className(value: object): string {
  const name = value.constructor?.name;
  return name && name !== 'Object' ? `${name} ` : '';
}

/** A value as failure messages show it: primitives in full (strings cut at 40), objects by kind only. */
function short(value: unknown): string {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value);
  if (typeof value === 'function') return describeFunction(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Array.isArray(value)) return `Array(${value.length})`;
  const asymmetric = value as { $$typeof?: symbol; toAsymmetricMatcher?: () => string };
  if (typeof asymmetric.toAsymmetricMatcher === 'function') return asymmetric.toAsymmetricMatcher();
  return `${className(value)}{…}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') return short(value);
  return `${typeof value} ${short(value)}`;
}
