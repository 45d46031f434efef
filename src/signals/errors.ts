// Every entry point (typeorm-signals, /testing, /jest) loads this module: a second copy of the
// package in the process is reported as soon as it loads (see copies.ts).
import './copies';

/**
 * Thrown when the library is used in a state that cannot work: a receiver chain that recursed
 * past the depth limit, signals used on a DataSource that is not initialized, and the like.
 * Wrong arguments throw a plain `TypeError` instead. Messages name the signal, the receiver or
 * the option at fault, and never contain entity values.
 *
 * @example
 * try {
 *   await users.save(user);
 * } catch (error) {
 *   if (error instanceof SignalsError) logger.error(error.message); // e.g. a receiver recursion
 *   throw error;
 * }
 */
export class SignalsError extends Error {
  /** Always 'SignalsError'. */
  override name = 'SignalsError';
}

/** A short, value-free name for a sender or receiver, for messages and logs. */
export function describeFunction(fn: unknown): string {
  if (typeof fn === 'function') return fn.name || '<anonymous>';
  if (typeof fn === 'string') return JSON.stringify(fn);
  return typeof fn;
}
