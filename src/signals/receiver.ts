// The implementation behind receiver() (Django's @receiver decorator); its typed overloads, for
// plain and model signals, are in src/typeorm/receiver.ts, the one the package exports.

import type { Signal } from './signal';

/**
 * The receiver function type a signal's connect() accepts.
 *
 * @example
 * type OnRegistered = ReceiverOf<typeof userRegistered>; // Receiver<{ userId: number }>
 */
export type ReceiverOf<S> = S extends {
  /** The signal's connect(). */
  connect(receiver: infer R, options?: any): any;
}
  ? R
  : never;

/**
 * The options type a signal's connect() accepts.
 *
 * @example
 * const options: OptionsOf<typeof postSave> = { sender: User, phase: 'commit' };
 */
export type OptionsOf<S> = S extends {
  /** The signal's connect(). */
  connect(receiver: any, options?: infer O): any;
}
  ? O
  : never;

/**
 * The argument a receiver gets from any of several signals (a union, so one function fits them all).
 *
 * @example
 * function onWrite(args: ArgsOf<typeof postSave | typeof postDelete>) {
 *   console.log(args.signal.name, args.entityId);
 * }
 */
export type ArgsOf<S> = S extends {
  /** The signal's connect(). */
  connect(receiver: (args: infer A) => any, options?: any): any;
}
  ? A
  : never;

/**
 * @internal Connects `fn` to each signal with the same options and returns `fn`. Options are
 * validated for every signal before any connection is made, so a bad option (or a setting that
 * conflicts with an existing connection) connects nothing.
 */
export function connectReceiver(signal: Signal<any> | readonly Signal<any>[], options: unknown, fn: Function): Function {
  const signals = (Array.isArray(signal) ? signal : [signal]) as readonly Signal<any>[];
  if (signals.length === 0) throw new TypeError('receiver(): needs at least one signal');
  signals.forEach((s, i) => {
    if (typeof (s as { normalizeConnectOptions?: unknown })?.normalizeConnectOptions !== 'function') {
      throw new TypeError(
        `receiver(): ${Array.isArray(signal) ? `signals[${i}]` : 'the first argument'} is not a Signal (got ${s === null ? 'null' : typeof s})` +
          (s === undefined ? '; a signal that is undefined when this code runs is usually a circular import' : ''),
      );
    }
  });
  const normalized = signals.map((s) => s.normalizeConnectOptions(options, fn));
  signals.forEach((s, i) => s.existingConnection(fn, normalized[i], 'receiver'));
  signals.forEach((s, i) => s.addConnection(fn, normalized[i], 'receiver'));
  return fn;
}
