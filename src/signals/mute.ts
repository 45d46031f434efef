import { selects as selectsConnection } from './runner';
import { runInScope, type MuteRule } from './scope';
import { Signal, connectedDispatchUids, isConnectedReceiver } from './signal';
import type { Sender } from './types';

/**
 * Which sends a helper applies to: some signals (default all) for some senders (default all),
 * and optionally only some receivers of them.
 *
 * @example
 * const selection: SignalSelection = { signals: [postSave, postDelete], senders: [User] };
 * await withoutSignals(() => seed(dataSource), selection);
 * // An import that creates the profiles but sends no welcome mail:
 * await withoutSignals(() => importUsers(rows), { receivers: [sendWelcomeMail] });
 */
export interface SignalSelection {
  /** A Signal (plain or model signal) or a list of them. Absent: every signal. */
  signals?: Signal<any> | readonly Signal<any>[];
  /**
   * A sender (class, or entity name string) or a list of them. Absent: every sender. A name
   * string also selects the entity class TypeORM knows by that name, as with connect().
   */
  senders?: Sender | readonly Sender[];
  /**
   * Receivers, each a receiver function or the dispatchUid it was connected with, or a list of
   * them. Absent: every receiver. withoutSignals() then mutes only these receivers of the
   * selected sends (the other receivers run); captureSignals() records only the sends that have
   * one of them connected. Every entry must name a receiver connected right now: an undefined
   * entry or an unknown dispatchUid is a TypeError, so that it cannot select more than meant.
   */
  receivers?: Function | string | ReadonlyArray<Function | string>;
}

/** @internal A validated selection: undefined means "all". */
export interface NormalizedSelection {
  signals: ReadonlySet<Signal<any>> | undefined;
  senders: readonly Sender[] | undefined;
  /** Receiver functions and dispatchUids. */
  receivers: ReadonlySet<unknown> | undefined;
}

const selectionKeys = ['signals', 'senders', 'receivers'];

const CIRCULAR_IMPORT_HINT =
  'A value that is undefined when this code runs is usually a circular import (for example between an entity file and the file that uses it)';

/**
 * @internal Validates a { signals, senders } selection for `method`; throws a TypeError naming
 * the problem, so a typo cannot silently mute (or capture) everything.
 */
export function normalizeSelection(options: unknown, method: string): NormalizedSelection {
  if (options === undefined) return { signals: undefined, senders: undefined, receivers: undefined };
  if (typeof options !== 'object' || options === null || Array.isArray(options) || options instanceof Signal) {
    throw new TypeError(
      `${method}: options must be an object { signals?, senders? }, got ${describeValue(options)}` +
        (options instanceof Signal || Array.isArray(options) ? ' (pass signals as { signals: [...] })' : ''),
    );
  }
  for (const key of Object.keys(options)) {
    if (!selectionKeys.includes(key)) {
      throw new TypeError(`${method}: unknown option "${key}" (known: ${selectionKeys.join(', ')})`);
    }
    if ((options as Record<string, unknown>)[key] === undefined) {
      throw new TypeError(
        `${method}: "${key}" is undefined, which would select every ${key.slice(0, -1)}; leave it out for that. ` +
          CIRCULAR_IMPORT_HINT,
      );
    }
  }
  const o = options as { signals?: unknown; senders?: unknown; receivers?: unknown };
  let signals: Set<Signal<any>> | undefined;
  if (o.signals !== undefined) {
    const list = Array.isArray(o.signals) ? o.signals : [o.signals];
    if (list.length === 0) {
      throw new TypeError(`${method}: "signals" is an empty list, which would select nothing; leave it out to select every signal`);
    }
    list.forEach((s, i) => {
      if (!isSignal(s)) {
        throw new TypeError(
          `${method}: "signals"${Array.isArray(o.signals) ? `[${i}]` : ''} is not a Signal (got ${describeValue(s)})` +
            (looksLikeSignal(s) ? '; it comes from another copy of typeorm-signals, whose sends this copy cannot see' : '') +
            (s === undefined ? `. ${CIRCULAR_IMPORT_HINT}` : ''),
        );
      }
    });
    signals = new Set(list as Signal<any>[]);
  }
  let senders: Sender[] | undefined;
  if (o.senders !== undefined) {
    const list = Array.isArray(o.senders) ? o.senders : [o.senders];
    if (list.length === 0) {
      throw new TypeError(`${method}: "senders" is an empty list, which would select nothing; leave it out to select every sender`);
    }
    list.forEach((s, i) => {
      if ((typeof s !== 'function' && typeof s !== 'string') || s === '') {
        throw new TypeError(
          `${method}: "senders"${Array.isArray(o.senders) ? `[${i}]` : ''} must be a class or a non-empty entity name string, got ${s === '' ? 'an empty string' : describeValue(s)}` +
            (s === undefined ? `. ${CIRCULAR_IMPORT_HINT}` : ''),
        );
      }
    });
    senders = list as Sender[];
  }
  return { signals, senders, receivers: o.receivers === undefined ? undefined : normalizeReceivers(o.receivers, method) };
}

/** The receivers list: functions and dispatchUids that are connected now, each checked. */
function normalizeReceivers(value: unknown, method: string): ReadonlySet<unknown> {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) {
    throw new TypeError(`${method}: "receivers" is an empty list, which would select nothing; leave it out to select every receiver`);
  }
  list.forEach((r, i) => {
    const name = `"receivers"${Array.isArray(value) ? `[${i}]` : ''}`;
    if (typeof r === 'function') {
      if (!isConnectedReceiver(r)) {
        throw new TypeError(
          `${method}: ${name} is function ${r.name || '<anonymous>'}, which is not connected to any signal now ` +
            '(a wrapper or a bound copy of the receiver? pass the function given to connect(), or its dispatchUid)',
        );
      }
      return;
    }
    if (typeof r === 'string' && r !== '') {
      const known = connectedDispatchUids();
      if (!known.includes(r)) {
        const listed = known.length === 0 ? 'none is' : `connected: ${known.slice(0, 10).map((k) => JSON.stringify(k)).join(', ')}${known.length > 10 ? ', ...' : ''}`;
        throw new TypeError(`${method}: ${name} is the dispatchUid ${JSON.stringify(r)}, which no receiver is connected with (${listed})`);
      }
      return;
    }
    throw new TypeError(
      `${method}: ${name} must be a receiver function or a dispatchUid string, got ${r === '' ? 'an empty string' : describeValue(r)}` +
        (r === undefined ? `; it would select no receiver, or worse, all of them. ${CIRCULAR_IMPORT_HINT}` : ''),
    );
  });
  return new Set(list);
}

/** @internal Whether a selection covers this send; `a` string sender selects its entity class too. */
export function selects(selection: NormalizedSelection, signal: object, sender: Sender): boolean {
  if (selection.signals && !selection.signals.has(signal as Signal<any>)) return false;
  const s = signal as Signal<any>;
  if (selection.senders && !selection.senders.some((wanted) => s.senderMatches(wanted, sender))) return false;
  // A receivers list: the send has one of them connected, in any phase (a model signal's
  // transaction-phase record of a row then comes with its commit-phase receiver's record).
  const receivers = selection.receivers;
  return receivers === undefined || s.lookup(sender).some((c) => selectsConnection(receivers, c));
}

/**
 * Runs `fn` with the selected signals muted for the selected senders: their receivers are not
 * called, for plain and model signals alike and in every phase (a commit receiver of a write made
 * inside `fn` stays muted when the COMMIT comes later). Receivers of other signals and other
 * senders keep running. The scope follows `fn`'s awaits (AsyncLocalStorage) and does not leak
 * into work that runs concurrently outside `fn`. Scopes nest: an inner one adds to what the
 * outer one mutes. Resolves to what `fn` returns (or rejects with what it throws).
 *
 * With `receivers`, only those receivers are muted (for the selected signals and senders, when
 * given): the sends happen and their other receivers run, so an import can skip the welcome mail
 * and still create the profiles.
 *
 * Invalid options throw a TypeError at once and `fn` is not called.
 *
 * @example
 * // Seed users without creating their profiles.
 * await withoutSignals(() => users.save(seed), { signals: [postSave], senders: [User] });
 * // Import users with their profiles, without welcome mails (a function or its dispatchUid).
 * await withoutSignals(() => users.save(rows, { chunk: 1000 }), { receivers: [sendWelcomeMail] });
 */
export function withoutSignals<T>(fn: () => T | Promise<T>, options?: SignalSelection): Promise<T> {
  if (typeof fn !== 'function') {
    throw new TypeError(`withoutSignals(): the first argument must be a function, got ${describeValue(fn)}`);
  }
  const selection = normalizeSelection(options, 'withoutSignals()');
  const rule: MuteRule = { signals: selection.signals, senders: selection.senders, receivers: selection.receivers };
  return runInScope({ mutes: [rule] }, fn);
}

function isSignal(value: unknown): value is Signal<any> {
  return value instanceof Signal;
}

function looksLikeSignal(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { connect?: unknown }).connect === 'function' && typeof (value as { name?: unknown }).name === 'string';
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Signal) return `the Signal "${value.name}"`;
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return typeof value;
}
