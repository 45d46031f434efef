/**
 * Thrown when the library is used in a state that cannot work: a receiver chain that recursed
 * past the depth limit, signals used on a DataSource that is not initialized, and the like.
 * Wrong arguments throw a plain `TypeError` instead. Messages name the signal, the receiver or
 * the option at fault, and never contain entity values.
 */
export class SignalsError extends Error {
  override name = 'SignalsError';
}

/** A short, value-free name for a sender or receiver, for messages and logs. */
export function describeFunction(fn: unknown): string {
  if (typeof fn === 'function') return fn.name || '<anonymous>';
  if (typeof fn === 'string') return JSON.stringify(fn);
  return typeof fn;
}
