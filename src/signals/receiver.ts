import type { Signal } from './signal';

/** The receiver function type a signal (or each of several signals) accepts. */
type ReceiverOf<S> = S extends { connect(receiver: infer R, options?: any): any } ? R : never;
type OptionsOf<S> = S extends { connect(receiver: any, options?: infer O): any } ? O : never;
/** The argument a receiver gets from any of several signals (a union, so one function fits them all). */
type ArgsOf<S> = S extends { connect(receiver: (args: infer A) => any, options?: any): any } ? A : never;

/**
 * Connects `fn` to one signal or to each of several, with the same options, and returns `fn`:
 * the stand-in for Django's `@receiver` decorator. Options are validated for every signal
 * before any connection is made, so a bad option (or a weak flag that conflicts with an
 * existing connection) connects nothing.
 *
 * @example
 * export const onUserSaved = receiver(postSave, { sender: User }, async ({ instance, created }) => { ... });
 */
export function receiver<S extends Signal<any>, F extends ReceiverOf<S>>(signal: S, options: OptionsOf<S> | undefined, fn: F): F;
export function receiver<S extends Signal<any>, F extends (args: ArgsOf<S>) => unknown>(signals: readonly S[], options: OptionsOf<S> | undefined, fn: F): F;
export function receiver(signal: Signal<any> | readonly Signal<any>[], options: unknown, fn: Function): Function {
  const signals = (Array.isArray(signal) ? signal : [signal]) as readonly Signal<any>[];
  if (signals.length === 0) throw new TypeError('receiver(): needs at least one signal');
  for (const s of signals) {
    if (typeof (s as { normalizeConnectOptions?: unknown })?.normalizeConnectOptions !== 'function') {
      throw new TypeError(`receiver(): ${s === null ? 'null' : typeof s} is not a Signal`);
    }
  }
  const normalized = signals.map((s) => s.normalizeConnectOptions(options, fn));
  signals.forEach((s, i) => s.existingConnection(fn, normalized[i], 'receiver'));
  signals.forEach((s, i) => s.addConnection(fn, normalized[i], 'receiver'));
  return fn;
}
