import { runInScope, type MuteRule } from './scope';
import { Signal } from './signal';
import type { Sender } from './types';

/**
 * Which sends a helper applies to: some signals (default all) for some senders (default all).
 *
 * @example
 * const selection: SignalSelection = { signals: [postSave, postDelete], senders: [User] };
 * await withoutSignals(() => seed(dataSource), selection);
 */
export interface SignalSelection {
  /** A Signal (plain or model signal) or a list of them. Absent: every signal. */
  signals?: Signal<any> | readonly Signal<any>[];
  /**
   * A sender (class, or entity name string) or a list of them. Absent: every sender. A name
   * string also selects the entity class TypeORM knows by that name, as with connect().
   */
  senders?: Sender | readonly Sender[];
}

/** @internal A validated selection: undefined means "all". */
export interface NormalizedSelection {
  signals: ReadonlySet<Signal<any>> | undefined;
  senders: readonly Sender[] | undefined;
}

const selectionKeys = ['signals', 'senders'];

const CIRCULAR_IMPORT_HINT =
  'A value that is undefined when this code runs is usually a circular import (for example between an entity file and the file that uses it)';

/**
 * @internal Validates a { signals, senders } selection for `method`; throws a TypeError naming
 * the problem, so a typo cannot silently mute (or capture) everything.
 */
export function normalizeSelection(options: unknown, method: string): NormalizedSelection {
  if (options === undefined) return { signals: undefined, senders: undefined };
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
        `${method}: "${key}" is undefined, which would select every ${key === 'signals' ? 'signal' : 'sender'}; leave it out for that. ` +
          CIRCULAR_IMPORT_HINT,
      );
    }
  }
  const o = options as { signals?: unknown; senders?: unknown };
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
  return { signals, senders };
}

/** @internal Whether a selection covers this send; `a` string sender selects its entity class too. */
export function selects(selection: NormalizedSelection, signal: object, sender: Sender): boolean {
  if (selection.signals && !selection.signals.has(signal as Signal<any>)) return false;
  if (!selection.senders) return true;
  const s = signal as Signal<any>;
  return selection.senders.some((wanted) => s.senderMatches(wanted, sender));
}

/**
 * Runs `fn` with the selected signals muted for the selected senders: their receivers are not
 * called, for plain and model signals alike and in every phase (a commit receiver of a write made
 * inside `fn` stays muted when the COMMIT comes later). Receivers of other signals and other
 * senders keep running. The scope follows `fn`'s awaits (AsyncLocalStorage) and does not leak
 * into work that runs concurrently outside `fn`. Scopes nest: an inner one adds to what the
 * outer one mutes. Resolves to what `fn` returns (or rejects with what it throws).
 *
 * Invalid options throw a TypeError at once and `fn` is not called.
 *
 * @example
 * // Seed users without creating their profiles.
 * await withoutSignals(() => users.save(seed), { signals: [postSave], senders: [User] });
 */
export function withoutSignals<T>(fn: () => T | Promise<T>, options?: SignalSelection): Promise<T> {
  if (typeof fn !== 'function') {
    throw new TypeError(`withoutSignals(): the first argument must be a function, got ${describeValue(fn)}`);
  }
  const selection = normalizeSelection(options, 'withoutSignals()');
  const rule: MuteRule = { signals: selection.signals, senders: selection.senders };
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
