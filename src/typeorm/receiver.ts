import type { ObjectLiteral } from 'typeorm';
import { connectReceiver, type ArgsOf, type OptionsOf, type ReceiverOf } from '../signals/receiver';
import type { Signal } from '../signals/signal';
import type { ClassOf } from '../signals/types';
import type { Family, ModelBatchReceiver, ModelConnectOptions, ModelReceiver, ModelSignal, PhaseFor, Timing } from './model-signal';

/**
 * Connects `fn` to one signal or to each of several, with the same options, and returns `fn`:
 * the stand-in for Django's `@receiver` decorator. With a model signal and a sender class the
 * payload is typed for that entity, as with `connect`. Options are validated for every signal
 * before any connection is made, so a bad option connects nothing.
 *
 * @example
 * export const createProfile = receiver(postSave, { sender: User }, async ({ instance, created, manager }) => {
 *   if (created) await manager.insert(UserProfile, { user: instance });
 * });
 */
export function receiver<F extends Family, T extends Timing, E extends ObjectLiteral, Ph extends PhaseFor<T> = 'transaction', R extends ModelBatchReceiver<F, E, Ph, ClassOf<E>> = ModelBatchReceiver<F, E, Ph, ClassOf<E>>>(
  signal: ModelSignal<F, T>,
  options: ModelConnectOptions<Ph> & { sender: ClassOf<E>; batch: true },
  fn: R,
): R;
export function receiver<F extends Family, T extends Timing, E extends ObjectLiteral, Ph extends PhaseFor<T> = 'transaction', R extends ModelReceiver<F, E, Ph, ClassOf<E>> = ModelReceiver<F, E, Ph, ClassOf<E>>>(
  signal: ModelSignal<F, T>,
  options: ModelConnectOptions<Ph> & { sender: ClassOf<E>; batch?: false },
  fn: R,
): R;
/**
 * Connects `fn` to a plain Signal (or to a model signal for every sender) and returns `fn`.
 *
 * @typeParam S - the signal's type
 * @typeParam F - the receiver's type, as that signal's connect() accepts it
 * @example
 * export const audit = receiver(userRegistered, { dispatchUid: 'audit:userRegistered' }, ({ userId }) => {
 *   auditLog.write('registered', userId);
 * });
 */
export function receiver<S extends Signal<any>, F extends ReceiverOf<S>>(signal: S, options: OptionsOf<S> | undefined, fn: F): F;
/**
 * Connects `fn` to each of several signals with the same options and returns `fn`: it receives
 * the payload type the signals have in common.
 *
 * @typeParam S - the signals' type
 * @typeParam F - the receiver's type
 * @example
 * export const invalidate = receiver([postSave, postDelete], { sender: User, phase: 'commit' }, ({ entityId }) => {
 *   cache.delete(`user:${String(entityId)}`);
 * });
 */
export function receiver<S extends Signal<any>, F extends (args: ArgsOf<S>) => unknown>(signals: readonly S[], options: OptionsOf<S> | undefined, fn: F): F;
export function receiver(signal: any, options: any, fn: any): any {
  return connectReceiver(signal, options, fn);
}
