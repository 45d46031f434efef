// Argument checks shared by Signal's methods. Each throws a TypeError whose message names the
// signal, the method and the problem, before anything is changed.

import type { Sender } from './types';

function kind(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

// connect() options that only a subclass of Signal accepts (the model signals' phase and batch),
// each with the message a signal that does not accept it gives; declared by the subclass's module.
const subclassOptions = new Map<string, (signal: string) => string>();

/**
 * @internal Declares a connect() option of a Signal subclass, so that a signal without it refuses
 * it with `refusal` (which says what the option is for) instead of "unknown option".
 */
export function declareSubclassOption(key: string, refusal: (signal: string) => string): void {
  subclassOptions.set(key, refusal);
}

/** Refuses unknown option keys, so that a typo such as `{ sendr: User }` cannot widen a receiver to every sender. */
export function checkOptionKeys(signal: string, options: object, allowed: readonly string[], method: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Signal "${signal}": ${method}() options must be an object`);
  }
  for (const key of Object.keys(options)) {
    // connect() leaves a subclass's options to refuseSubclassOptions, which says precisely why they are refused
    const subclassOption = method === 'connect' && subclassOptions.has(key);
    if (allowed.includes(key) || subclassOption) {
      checkNotUndefined(signal, key, (options as Record<string, unknown>)[key], `${method}() option`);
      continue;
    }
    throw new TypeError(
      `Signal "${signal}": unknown option "${key}" in ${method}() (known: ${allowed.join(', ')}); ` +
        (method === 'disconnect'
          ? 'an unknown option is refused so that a typo cannot leave the receiver connected while disconnect() quietly returns false'
          : 'an unknown option is refused so that a typo cannot connect a receiver to every sender'),
    );
  }
}

/** Refuses, in the order they were declared, the subclass options this signal does not accept. */
export function refuseSubclassOptions(signal: string, options: Record<string, unknown>, allowed: readonly string[]): void {
  for (const [key, refusal] of subclassOptions) {
    if (options[key] !== undefined && !allowed.includes(key)) throw new TypeError(refusal(signal));
  }
}

/**
 * Refuses an option given with the value `undefined`. Leaving `sender` out means "every sender",
 * so `{ sender: User }` where `User` is still undefined (a circular import between an entity file
 * and its receivers file, the usual cause) would silently widen a receiver to every sender.
 */
export function checkNotUndefined(signal: string, key: string, value: unknown, what: string): void {
  if (value !== undefined) return;
  throw new TypeError(
    `Signal "${signal}": ${what} "${key}" is undefined. Leave the option out to use its default; ` +
      'if you passed a variable, it was undefined when this code ran, which is usually a circular import ' +
      '(for example between an entity file and the file that connects its receivers)',
  );
}

export function checkSender(signal: string, sender: unknown, method: string): asserts sender is Sender {
  if (typeof sender !== 'function' && typeof sender !== 'string') {
    throw new TypeError(`Signal "${signal}": ${method}() sender must be a class or an entity name string, got ${kind(sender)}`);
  }
  if (sender === '') throw new TypeError(`Signal "${signal}": ${method}() sender must not be an empty string`);
}

export function checkDispatchUid(signal: string, uid: unknown, method: string): void {
  if (typeof uid !== 'string' || uid === '') {
    throw new TypeError(
      `Signal "${signal}": ${method}() option "dispatchUid" must be a non-empty string, got ${uid === '' ? 'an empty string' : typeof uid}`,
    );
  }
}

/** Throws the TypeError that says what is wrong with a send's arguments (called once the fast check failed). */
export function refuseSend(signal: string, sender: unknown, payload: unknown, method: string): void {
  checkSender(signal, sender, method);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new TypeError(`Signal "${signal}": ${method}() payload must be an object, got ${kind(payload)}`);
  }
  if ('signal' in payload || 'sender' in payload) {
    throw new TypeError(
      `Signal "${signal}": ${method}() payload may not contain the reserved key ` +
        `"${'signal' in payload ? 'signal' : 'sender'}" (every receiver receives signal and sender from the dispatcher)`,
    );
  }
}
