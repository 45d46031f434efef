/**
 * Who sends a signal: a class (an entity class for model signals) or a name. Senders match by
 * identity for classes and by equality for strings, as in Django.
 *
 * @example
 * postSave.connect(onUserSaved, { sender: User });   // a class
 * postSave.connect(onUserSaved, { sender: 'User' }); // the entity's name
 */
export type Sender = Function | string;

/**
 * A class whose instances are E; also matches abstract classes.
 *
 * @example
 * function listen<E>(entity: ClassOf<E>) {
 *   return postSave.connect(({ instance }) => console.log(instance), { sender: entity });
 * }
 */
export type ClassOf<E> = abstract new (...args: any[]) => E;

/**
 * The payload types a Signal accepts: objects without the reserved keys `signal` and `sender`,
 * which every receiver gets from the dispatcher (a compile error at `new Signal<P>()`).
 *
 * @example
 * function makeSignal<P extends PayloadObject>(name: string) {
 *   return new Signal<P>({ name });
 * }
 */
export type PayloadObject = object & {
  /** Reserved: receivers get the Signal here. */
  signal?: never;
  /** Reserved: receivers get the sender here. */
  sender?: never;
};

/**
 * The disconnect function returned by connect(): true when this call removed the connection.
 *
 * @example
 * const off: Disconnect = postSave.connect(onUserSaved, { sender: User });
 * off(); // true
 * off(); // false: already removed
 *
 * // Or scoped (Node >= 20.4, TypeScript >= 5.2): disconnected when the block ends.
 * {
 *   using _connection = postSave.connect(onUserSaved, { sender: User });
 *   await users.save(user);
 * }
 */
export type Disconnect = (() => boolean) & {
  /** Disconnects, as calling the function does: what `using` calls at the end of its block. */
  [Symbol.dispose](): void;
};

/**
 * Node 20 defines Symbol.dispose as Symbol.for('nodejs.dispose') in its main realm only: a vm
 * context such as jest's sandbox has no Symbol.dispose. The registered symbol is the same in
 * every realm, so `using` works wherever Symbol.dispose is defined.
 */
const dispose: typeof Symbol.dispose = Symbol.dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

/** @internal Makes connect()'s return value: the remove function, also usable with `using`. */
export function disconnectFunction(remove: () => boolean): Disconnect {
  const off = remove as Disconnect;
  off[dispose] = () => void remove();
  return off;
}

/**
 * What a receiver returned, or the Error it threw (sendRobust).
 *
 * @example
 * const results: SendResults<Function> = await userRegistered.sendRobust(User, { userId: 1, email });
 * for (const [receiver, result] of results) if (result instanceof Error) console.warn(receiver.name, result.message);
 */
export type SendResults<R> = Array<[receiver: R, result: unknown]>;
