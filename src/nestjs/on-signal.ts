import 'reflect-metadata';
import type { DataSource, ObjectLiteral } from 'typeorm';
import { captureCallSite } from '../signals/call-site';
import type { ConnectOptions, Receiver, Signal } from '../signals/signal';
import type { ClassOf, PayloadObject } from '../signals/types';
import type { DurableConnectOptions } from '../typeorm/durable/options';
import type { DurableBatchReceiver, DurableReceiver } from '../typeorm/durable/types';
import type { Family, ModelBatchReceiver, ModelConnectOptions, ModelReceiver, ModelSignal, PhaseFor, Timing } from '../typeorm/model-signal';
import type { Phase } from '../typeorm/phases';

/**
 * Where `@OnSignal` receivers run: a DataSource, or the name of a @nestjs/typeorm connection
 * (`TypeOrmModule.forRoot({ name: 'reports', ... })`; 'default' is the unnamed one). SignalsModule
 * resolves the name when the application boots. Absent: writes on every DataSource.
 *
 * @example
 * class ReportIndex {
 *   @OnSignal(postSave, { sender: Order, phase: 'commit', dataSource: 'reports' })
 *   index({ instance }: SavePayload<Order, 'commit'>) {
 *     search.index('orders', instance.id);
 *   }
 * }
 */
export interface OnSignalScope {
  /** The DataSource, or the @nestjs/typeorm connection name, whose writes run this receiver. */
  dataSource?: DataSource | string;
}

/**
 * The options of `@OnSignal` on a model signal: those of `connect()` (sender, phase, batch,
 * dispatchUid) with a `dataSource` that may be a connection name. `weak` is not accepted: the
 * module holds the bound method from boot to shutdown.
 *
 * @example
 * const options: OnSignalOptions<'commit'> = { sender: User, phase: 'commit', dataSource: 'default' };
 */
export type OnSignalOptions<Ph extends Phase = Phase> = Omit<ModelConnectOptions<Ph>, 'weak' | 'dataSource'> & OnSignalScope;

/**
 * The options of `@OnSignal` for a durable receiver (phase 'durable', a dispatchUid, retry,
 * values), run by a worker from a job committed with the write.
 *
 * @example
 * const options: DurableOnSignalOptions = { sender: User, phase: 'durable', dispatchUid: 'welcome-mail', retry: { limit: 5 } };
 */
export type DurableOnSignalOptions = Omit<DurableConnectOptions, 'weak'> & OnSignalScope;

/**
 * The options of `@OnSignal` on a plain `Signal`: sender and dispatchUid.
 *
 * @example
 * const options: PlainOnSignalOptions = { sender: User, dispatchUid: 'audit:userRegistered' };
 */
export type PlainOnSignalOptions = Omit<ConnectOptions, 'weak'>;

/**
 * What `@OnSignal(...)` returns: a method decorator that accepts only methods whose type fits
 * the receiver type `R` of that signal and options (a wrong pairing is a compile error).
 *
 * @typeParam R - the receiver type the signal's connect() would accept with these options
 * @example
 * const decorate: ReceiverDecorator<ModelReceiver<'save', User, 'commit'>> = OnSignal(postSave, { sender: User, phase: 'commit' });
 */
export type ReceiverDecorator<R> = <M extends R>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<M>) => void;

/** @internal One `@OnSignal` of a method, as the module's explorer reads it. */
export interface OnSignalEntry {
  readonly signal: Signal<any>;
  readonly options: Readonly<Record<string, unknown>> | undefined;
  /** The line of the decorator, shown as the connection's connectedAt. */
  readonly connectedAt: () => string | undefined;
}

const ON_SIGNAL = Symbol.for('typeorm-signals.nestjs.on-signal');

/** @internal The `@OnSignal` entries of a method, in the order they are written (top first). */
export function onSignalEntries(method: Function): readonly OnSignalEntry[] {
  return (Reflect.getOwnMetadata(ON_SIGNAL, method) as OnSignalEntry[] | undefined) ?? [];
}

/**
 * Connects a method of a NestJS provider to a signal: SignalsModule finds it when the
 * application boots, connects it with `this` bound to the provider and disconnects it when the
 * application shuts down. Options are those of connect(); the method's parameter type must fit
 * the payload. Several `@OnSignal` may decorate one method. The provider must be a singleton (the
 * default scope): a request-scoped or transient one is an error at boot.
 *
 * @example
 * @Injectable()
 * export class UserSignals {
 *   constructor(private readonly mailer: WelcomeMailer) {}
 *
 *   // After COMMIT: no welcome mail for a sign-up that rolls back.
 *   @OnSignal(postSave, { sender: User, phase: 'commit' })
 *   async welcome({ instance, created }: SavePayload<User, 'commit'>): Promise<void> {
 *     if (created) await this.mailer.sendWelcome(instance.email);
 *   }
 * }
 */
export function OnSignal<F extends Family, T extends Timing, E extends ObjectLiteral, Ph extends PhaseFor<T> = 'transaction'>(
  signal: ModelSignal<F, T>,
  options: OnSignalOptions<Ph> & { sender: ClassOf<E>; batch?: false },
): ReceiverDecorator<ModelReceiver<F, E, Ph, ClassOf<E>>>;
/**
 * A batch receiver for one entity class: one call per write with all its rows as `items`.
 *
 * @example
 * class UserSearch {
 *   @OnSignal(postSave, { sender: User, phase: 'commit', batch: true })
 *   reindex({ items }: BatchPayload<SavePayload<User, 'commit'>, 'commit'>) {
 *     search.reindex(items.map((item) => item.instance.id));
 *   }
 * }
 */
export function OnSignal<F extends Family, T extends Timing, E extends ObjectLiteral, Ph extends PhaseFor<T> = 'transaction'>(
  signal: ModelSignal<F, T>,
  options: OnSignalOptions<Ph> & { sender: ClassOf<E>; batch: true },
): ReceiverDecorator<ModelBatchReceiver<F, E, Ph, ClassOf<E>>>;
/**
 * A per-row receiver for every entity (or an entity name string).
 *
 * @example
 * class Cache {
 *   @OnSignal(postDelete, { phase: 'commit', dataSource: 'reports' })
 *   forget({ sender, entityId }: DeletePayload<object, 'commit'> & { sender: Sender }) {
 *     cache.delete(`${String(sender)}:${String(entityId)}`);
 *   }
 * }
 */
export function OnSignal<F extends Family, T extends Timing, Ph extends PhaseFor<T> = 'transaction'>(
  signal: ModelSignal<F, T>,
  options?: OnSignalOptions<Ph> & { batch?: false },
): ReceiverDecorator<ModelReceiver<F, ObjectLiteral, Ph>>;
/**
 * A batch receiver for every entity (or an entity name string).
 *
 * @example
 * class WriteMetrics {
 *   @OnSignal(postSave, { batch: true, phase: 'commit' })
 *   count({ sender, items }: BatchPayload<unknown, 'commit'> & { sender: Sender }) {
 *     metrics.add(String(sender), items.length);
 *   }
 * }
 */
export function OnSignal<F extends Family, T extends Timing, Ph extends PhaseFor<T> = 'transaction'>(
  signal: ModelSignal<F, T>,
  options: OnSignalOptions<Ph> & { batch: true },
): ReceiverDecorator<ModelBatchReceiver<F, ObjectLiteral, Ph>>;
/**
 * A durable per-row receiver for one entity class: one job per row, committed with the write and
 * run by a worker with retries.
 *
 * @example
 * class WelcomeMail {
 *   @OnSignal(postSave, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' })
 *   async welcome({ created, load, deliveryId }: DurableSaveItem<User> & DurableContext) {
 *     const user = created ? await load() : null;
 *     if (user) await mailer.welcome(user.email, { idempotencyKey: deliveryId });
 *   }
 * }
 */
export function OnSignal<F extends Family, E extends ObjectLiteral>(
  signal: ModelSignal<F, Timing>,
  options: DurableOnSignalOptions & { sender: ClassOf<E>; batch?: false },
): ReceiverDecorator<DurableReceiver<F, E, ClassOf<E>>>;
/**
 * A durable batch receiver for one entity class: one job per write with all its rows as `items`.
 *
 * @example
 * class UserIndex {
 *   @OnSignal(postSave, { sender: User, phase: 'durable', dispatchUid: 'reindex-users', batch: true })
 *   reindex({ items }: { items: readonly DurableSaveItem<User>[] }) {
 *     search.reindex(items.map((item) => item.entityId));
 *   }
 * }
 */
export function OnSignal<F extends Family, E extends ObjectLiteral>(
  signal: ModelSignal<F, Timing>,
  options: DurableOnSignalOptions & { sender: ClassOf<E>; batch: true },
): ReceiverDecorator<DurableBatchReceiver<F, E, ClassOf<E>>>;
/**
 * A durable per-row receiver for every entity.
 *
 * @example
 * class DeleteAudit {
 *   @OnSignal(postDelete, { phase: 'durable', dispatchUid: 'audit-deletes' })
 *   deleted({ sender, entityId }: DurableDeleteItem & { sender: Sender }) {
 *     audit.deleted(String(sender), entityId);
 *   }
 * }
 */
export function OnSignal<F extends Family>(
  signal: ModelSignal<F, Timing>,
  options: DurableOnSignalOptions & { batch?: false },
): ReceiverDecorator<DurableReceiver<F, ObjectLiteral>>;
/**
 * A durable batch receiver for every entity.
 *
 * @example
 * class DeleteAudit {
 *   @OnSignal(postDelete, { phase: 'durable', dispatchUid: 'audit-delete-batches', batch: true })
 *   deleted({ sender, items }: { sender: Sender; items: readonly DurableDeleteItem[] }) {
 *     audit.deletedMany(String(sender), items.length);
 *   }
 * }
 */
export function OnSignal<F extends Family>(
  signal: ModelSignal<F, Timing>,
  options: DurableOnSignalOptions & { batch: true },
): ReceiverDecorator<DurableBatchReceiver<F, ObjectLiteral>>;
/**
 * A receiver of a plain `Signal` (one you send yourself).
 *
 * @example
 * const accountClosed = new Signal<{ userId: number }>({ name: 'accountClosed' });
 *
 * class Audit {
 *   @OnSignal(accountClosed)
 *   closed({ userId }: { userId: number }) {
 *     auditLog.write('closed', userId);
 *   }
 * }
 */
export function OnSignal<P extends PayloadObject>(signal: Signal<P>, options?: PlainOnSignalOptions): ReceiverDecorator<Receiver<P>>;
export function OnSignal(signal: Signal<any>, options?: object): ReceiverDecorator<any> {
  // Checked at once: an undefined signal (a circular import) would otherwise surface only at boot.
  if (typeof (signal as { normalizeConnectOptions?: unknown } | undefined)?.normalizeConnectOptions !== 'function') {
    throw new TypeError(
      `@OnSignal(): the first argument is not a Signal (got ${signal === null ? 'null' : typeof signal})` +
        (signal === undefined ? '; a signal that is undefined when this code runs is usually a circular import' : ''),
    );
  }
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new TypeError(`@OnSignal(${signal.name}): options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  if (options !== undefined && 'weak' in options) {
    throw new TypeError(
      `@OnSignal(${signal.name}): option "weak" is not for provider methods: SignalsModule holds the bound method ` +
        'from boot to shutdown and disconnects it then',
    );
  }
  const entry: OnSignalEntry = { signal, options: options === undefined ? undefined : { ...options }, connectedAt: captureCallSite() };
  return (target, propertyKey, descriptor) => {
    const method = descriptor.value;
    if (typeof method !== 'function') {
      throw new TypeError(`@OnSignal(${signal.name}) on ${describeTarget(target)}.${String(propertyKey)}: only methods can be receivers (not accessors)`);
    }
    // Decorators apply bottom-up: prepend, so entries read in the order they are written.
    Reflect.defineMetadata(ON_SIGNAL, [entry, ...onSignalEntries(method)], method);
  };
}

function describeTarget(target: object): string {
  return (typeof target === 'function' ? target.name : target.constructor?.name) || '<anonymous class>';
}
