// The ambient state of one async call tree: which signals are muted there and which captures
// record its sends. It lives in an AsyncLocalStorage so it follows awaits and never leaks into
// concurrent work that did not start inside the scope.

import { ownStorage } from './context';
import type { Sender } from './types';

/** @internal What one withoutSignals() scope mutes. */
export interface MuteRule {
  /** undefined = every signal */
  signals?: ReadonlySet<object>;
  /** undefined = every sender */
  senders?: readonly Sender[];
  /**
   * Mutes only these receivers (functions, and dispatchUids) of the selected sends, not the
   * sends themselves; undefined = the whole send.
   */
  receivers?: ReadonlySet<unknown>;
}

export interface ScopeSink {
  /** Called for every send inside the scope, muted ones included (with `muted: true`). */
  record(entry: DispatchEntry): void;
  /** Whether the sink wants this signal; a sink that does not is not asked to record. */
  wants(signal: object, sender: Sender): boolean;
}

/**
 * How one receiver ended, as captureSignals() records it.
 *
 * @example
 * const { records } = await captureSignals(() => users.save(user));
 * const failed = records.flatMap((r) => r.receivers).filter((o: ReceiverOutcome) => o.status === 'threw');
 */
export type ReceiverOutcome =
  | {
      /** The receiver function. */
      receiver: Function;
      /** It returned (or its promise resolved). */
      status: 'returned';
      /** What it returned (awaited). */
      result: unknown;
    }
  | {
      /** The receiver function. */
      receiver: Function;
      /** It threw (or its promise rejected). */
      status: 'threw';
      /** What it threw. */
      error: unknown;
    };

/** What a send looked like: filled in as the receivers run. */
export interface DispatchEntry {
  signal: object;
  sender: Sender;
  payload: object;
  phase: string | undefined;
  /** A batch receiver call (payload `{ items, ... }`), not one row's send. */
  batch: boolean;
  muted: boolean;
  receivers: ReceiverOutcome[];
}

export interface ScopeState {
  readonly mutes: readonly MuteRule[];
  readonly sinks: readonly ScopeSink[];
}

// Its value follows deferred work out of the transaction's async context (see context.ts).
const storage = ownStorage<ScopeState>();

// Counts scopes that are open anywhere in the process. While it is 0 a send skips the
// AsyncLocalStorage lookup entirely: the common production path pays one integer compare.
let openScopes = 0;

/** The scope of the current async context, or undefined when none is open (fast). */
export function currentScope(): ScopeState | undefined {
  return openScopes === 0 ? undefined : storage.getStore();
}

/**
 * Runs fn inside a scope that adds `extra` to the enclosing one: inner scopes add mutes and
 * sinks, they never remove what an outer scope set up.
 */
export async function runInScope<T>(extra: Partial<ScopeState>, fn: () => T | Promise<T>): Promise<T> {
  const parent = storage.getStore();
  const state: ScopeState = {
    mutes: [...(parent?.mutes ?? []), ...(extra.mutes ?? [])],
    sinks: [...(parent?.sinks ?? []), ...(extra.sinks ?? [])],
  };
  openScopes++;
  try {
    return await storage.run(state, fn);
  } finally {
    openScopes--;
  }
}

/** Whether a mute rule of the scope covers this (signal, sender). */
export function isMuted(scope: ScopeState, signal: object, sender: Sender, matches: (a: Sender, b: Sender) => boolean): boolean {
  for (const rule of scope.mutes) {
    if (rule.receivers || (rule.signals && !rule.signals.has(signal))) continue;
    if (!rule.senders || rule.senders.some((s) => matches(s, sender))) return true;
  }
  return false;
}

/**
 * The receiver rules of the scope that cover this (signal, sender): those that mute single
 * receivers; undefined when there is none (the usual case).
 */
export function receiverMutes(
  scope: ScopeState,
  signal: object,
  sender: Sender,
  matches: (a: Sender, b: Sender) => boolean,
): ReadonlyArray<ReadonlySet<unknown>> | undefined {
  let found: Array<ReadonlySet<unknown>> | undefined;
  for (const rule of scope.mutes) {
    if (!rule.receivers || (rule.signals && !rule.signals.has(signal))) continue;
    if (!rule.senders || rule.senders.some((s) => matches(s, sender))) (found ??= []).push(rule.receivers);
  }
  return found;
}

/** Opens a record in every sink of the scope that wants it; returns the entries to fill. */
export function openEntries(scope: ScopeState, send: Omit<DispatchEntry, 'receivers'>): DispatchEntry[] | undefined {
  let entries: DispatchEntry[] | undefined;
  for (const sink of scope.sinks) {
    if (!sink.wants(send.signal, send.sender)) continue;
    const entry: DispatchEntry = { ...send, receivers: [] };
    sink.record(entry);
    (entries ??= []).push(entry);
  }
  return entries;
}
