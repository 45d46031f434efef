import type { DataSource, ObjectLiteral } from 'typeorm';
import { Signal, type ConnectOptions, type DisconnectOptions, type Receiver, type ReceiverArgs, type ReceiverInfo } from '../signals/signal';
import { describeFunction } from '../signals/errors';
import { trace } from '../signals/trace';
import { currentScope } from '../signals/scope';
import type { ClassOf, Disconnect, Sender, SendResults } from '../signals/types';
import { declareSubclassOption } from '../signals/validate';
import type { BatchPayload, DeletePayload, LoadPayload, M2MPayload, SavePayload } from './payloads';
import { sendRow } from './dispatcher';
import { onEntityNamesChanged, sendersMatch } from './entity-names';
import { isPhase, listPhases, type ConnectionPhase, type LivePhase, type Phase, type WriteContext } from './phases';
import { checkDurableOptions, type DurableConnectOptions } from './durable/options';
import type { DurableBatchReceiver, DurableReceiver } from './durable/types';

/**
 * The payload family of each model signal, for an entity type E and a phase.
 *
 * @example
 * type UserSaved = PayloadFamilies<User, 'commit'>['save']; // SavePayload<User, 'commit'>
 */
export interface PayloadFamilies<E, Ph extends Phase> {
  /** preSave, postSave. */
  save: SavePayload<E, Ph>;
  /** preDelete, postDelete, preSoftDelete, postSoftDelete, preRestore, postRestore. */
  delete: DeletePayload<E, Ph>;
  /** postLoad. */
  load: LoadPayload<E>;
  /** m2mChanged. */
  m2m: M2MPayload<Ph>;
}
/**
 * The payload family of a model signal: 'save', 'delete', 'load' or 'm2m' (the keys of PayloadFamilies).
 *
 * @example
 * function auditAll<F extends Family>(signal: ModelSignal<F, 'post'>) {
 *   return signal.connect(({ sender }) => console.log(signal.name, String(sender)), { phase: 'commit' });
 * }
 */
export type Family = keyof PayloadFamilies<unknown, Phase>;

/**
 * Whether a model signal runs before the write ('pre', may veto it, so it cannot be deferred) or after it ('post').
 *
 * @example
 * const signals: Array<ModelSignal<Family, Timing>> = [preSave, postSave, postDelete];
 */
export type Timing = 'pre' | 'post';
/**
 * The phases a model signal of this timing accepts: every phase for post signals, only
 * 'transaction' for pre signals (they run before the write and may veto it).
 *
 * @example
 * type PostPhases = PhaseFor<'post'>; // 'transaction' | 'commit' | 'rollback'
 * type PrePhases = PhaseFor<'pre'>; // 'transaction'
 */
export type PhaseFor<T extends Timing> = T extends 'post' ? LivePhase : 'transaction';

// The plain Signal refuses these options with a message that says what they are for.
declareSubclassOption(
  'phase',
  (name) =>
    `Signal "${name}": option "phase" is only for the post* model signals (postSave, postDelete, ...); ` +
    'a plain Signal runs its receivers when it is sent',
);
for (const key of ['retry', 'values']) {
  declareSubclassOption(key, (name) => `Signal "${name}": option "${key}" is only for durable receivers of the post* model signals (phase 'durable')`);
}
declareSubclassOption(
  'batch',
  (name) => `Signal "${name}": option "batch" is only for model signals (postSave, ...), which send one write's rows together`,
);
declareSubclassOption('dataSource', (name) => `Signal "${name}": option "dataSource" is only for model signals (postSave, ...), which TypeORM writes send`);

/**
 * The options of a model signal's connect(): those of `Signal.connect` plus `phase` and `batch`.
 *
 * @example
 * postSave.connect(indexUsers, { sender: User, phase: 'commit', batch: true });
 */
export interface ModelConnectOptions<Ph extends Phase = Phase> extends ConnectOptions {
  /** When the receiver runs; only post* signals accept 'commit' and 'rollback'. Default 'transaction'. */
  phase?: Ph;
  /** Receive one call per write operation with all its rows as `items`, instead of one per row. */
  batch?: boolean;
  /**
   * Run only for writes on this DataSource. Absent: writes on every DataSource. Like the sender,
   * it is part of the connection: the same receiver may be connected once per DataSource.
   */
  dataSource?: DataSource;
}

/**
 * The options of a model signal's disconnect(): the `sender`, `dispatchUid` and `dataSource` given to connect().
 *
 * @example
 * postSave.disconnect(indexUser, { sender: User, dataSource: reports });
 */
export interface ModelDisconnectOptions extends DisconnectOptions {
  /** The DataSource the receiver was connected with. */
  dataSource?: DataSource;
}

/**
 * One model-signal connection, as `receivers()` and `describeSignals()` show it.
 *
 * @example
 * for (const { receiver, sender, phase, dataSource } of postSave.receivers(User)) {
 *   console.log(receiver.name, sender, phase, dataSource === reports ? 'reports' : 'any DataSource');
 * }
 */
export interface ModelReceiverInfo<R = Function> extends ReceiverInfo<R> {
  /** The DataSource it is limited to; undefined: every DataSource. */
  dataSource: DataSource | undefined;
}

/**
 * A per-row model receiver.
 *
 * @example
 * const onUserSaved: ModelReceiver<'save', User, 'transaction'> = ({ instance, created }) => {
 *   if (created) console.log('new user', instance.id);
 * };
 */
export type ModelReceiver<F extends Family, E, Ph extends Phase, S = Sender> = (
  args: ReceiverArgs<PayloadFamilies<E, Ph>[F], S>,
) => unknown;

/**
 * A batch model receiver.
 *
 * @example
 * const onUsersSaved: ModelBatchReceiver<'save', User, 'commit'> = ({ items }) => {
 *   console.log(`${items.length} users saved`);
 * };
 */
export type ModelBatchReceiver<F extends Family, E, Ph extends Phase, S = Sender> = (
  args: ReceiverArgs<BatchPayload<PayloadFamilies<E, Ph>[F], Ph>, S>,
) => unknown;

const modelSignals: ModelSignal<Family, Timing>[] = [];
// A name learned for a class changes which connections run for it.
onEntityNamesChanged(() => {
  for (const s of modelSignals) s.invalidate();
});

/**
 * A signal fed by TypeORM entity events. Its sender is the entity class (or the entity name
 * string); connecting with `sender: User` types the payload's `instance` and `previous` as User.
 * Post signals accept a transaction phase, every model signal accepts `batch`.
 *
 * @example
 * // The library's own signals are ModelSignals: postSave, preDelete, m2mChanged, ...
 * const signals: Array<ModelSignal<Family, Timing>> = [postSave, preDelete, m2mChanged];
 * postSave.connect(({ instance }) => console.log(instance.email), { sender: User });
 */
export class ModelSignal<F extends Family, T extends Timing> extends Signal<any> {
  /** @internal */
  readonly family: F;
  /** @internal */
  readonly timing: T;

  constructor(options: { name: string; family: F; timing: T }) {
    super({ name: options.name });
    this.family = options.family;
    this.timing = options.timing;
    modelSignals.push(this as unknown as ModelSignal<Family, Timing>);
  }

  /**
   * A durable batch receiver for one entity class: one job per write, run by a worker.
   *
   * @example
   * postSave.connect(({ items }) => search.reindex(items.map((i) => i.entityId)), {
   *   sender: User, phase: 'durable', dispatchUid: 'reindex-users', batch: true,
   * });
   */
  override connect<E extends ObjectLiteral>(
    receiver: DurableBatchReceiver<F, E, ClassOf<E>>,
    options: DurableConnectOptions & { sender: ClassOf<E>; batch: true },
  ): Disconnect;
  /**
   * A durable per-row receiver for one entity class: one job per row, committed with the write
   * and run by a worker (startSignalsWorker) with retries.
   *
   * @example
   * postSave.connect(async ({ created, load, deliveryId }) => {
   *   const user = created ? await load() : null;
   *   if (user) await mailer.welcome(user.email, { idempotencyKey: deliveryId });
   * }, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' });
   */
  override connect<E extends ObjectLiteral>(
    receiver: DurableReceiver<F, E, ClassOf<E>>,
    options: DurableConnectOptions & { sender: ClassOf<E>; batch?: false },
  ): Disconnect;
  /**
   * A durable batch receiver for every entity (or an entity name string).
   *
   * @example
   * postDelete.connect(({ sender, items }) => audit.deletedMany(String(sender), items.length), {
   *   phase: 'durable', dispatchUid: 'audit-delete-batches', batch: true,
   * });
   */
  override connect(receiver: DurableBatchReceiver<F, ObjectLiteral>, options: DurableConnectOptions & { batch: true }): Disconnect;
  /**
   * A durable per-row receiver for every entity (or an entity name string).
   *
   * @example
   * postDelete.connect(({ sender, entityId }) => audit.deleted(String(sender), entityId), { phase: 'durable', dispatchUid: 'audit-deletes' });
   */
  override connect(receiver: DurableReceiver<F, ObjectLiteral>, options: DurableConnectOptions & { batch?: false }): Disconnect;
  /**
   * A batch receiver for one entity class: one call per write with all its rows as `items`.
   *
   * @example
   * postSave.connect(({ items }) => console.log(items.length), { sender: User, batch: true });
   */
  override connect<E extends ObjectLiteral, Ph extends PhaseFor<T> = 'transaction'>(
    receiver: ModelBatchReceiver<F, E, Ph, ClassOf<E>>,
    options: ModelConnectOptions<Ph> & { sender: ClassOf<E>; batch: true },
  ): Disconnect;
  /**
   * A per-row receiver for one entity class: `instance` and `previous` are typed as that class.
   *
   * @example
   * postSave.connect(({ instance, created }) => created && welcome(instance), { sender: User });
   */
  override connect<E extends ObjectLiteral, Ph extends PhaseFor<T> = 'transaction'>(
    receiver: ModelReceiver<F, E, Ph, ClassOf<E>>,
    options: ModelConnectOptions<Ph> & { sender: ClassOf<E>; batch?: false },
  ): Disconnect;
  /**
   * A batch receiver for every entity (or for an entity name string).
   *
   * @example
   * postSave.connect(({ items, sender }) => console.log(String(sender), items.length), { batch: true });
   */
  override connect<Ph extends PhaseFor<T> = 'transaction'>(
    receiver: ModelBatchReceiver<F, ObjectLiteral, Ph>,
    options: ModelConnectOptions<Ph> & { batch: true },
  ): Disconnect;
  /**
   * A per-row receiver for every entity (or for an entity name string).
   *
   * @example
   * postSave.connect(({ sender, entityId }) => audit.log('saved', sender, entityId));
   */
  override connect<Ph extends PhaseFor<T> = 'transaction'>(
    receiver: ModelReceiver<F, ObjectLiteral, Ph>,
    options?: ModelConnectOptions<Ph> & { batch?: false },
  ): Disconnect;
  override connect(receiver: Function, options?: ModelConnectOptions | DurableConnectOptions): Disconnect {
    return this.addConnection(receiver, this.normalizeConnectOptions(options, receiver), 'connect');
  }

  /**
   * Removes the connection made with this receiver (or dispatchUid), sender and DataSource; true
   * when one was removed. The options must be the ones given to connect.
   *
   * @example
   * postSave.disconnect(indexUser, { sender: User });
   */
  override disconnect(receiver?: Function, options: ModelDisconnectOptions = {}): boolean {
    if (typeof options === 'object' && options !== null && options.dataSource !== undefined) checkDataSource(this.name, options.dataSource, 'disconnect');
    return super.disconnect(receiver, options);
  }

  /**
   * The connections, in connection order, with the DataSource each is limited to. With a sender:
   * those that would run for it; without: all of them.
   *
   * @example
   * postSave.receivers(User).map((r) => [r.receiver.name, r.phase, r.dataSource]);
   */
  override receivers(sender?: Sender): Array<ModelReceiverInfo<Receiver<any>>> {
    return super.receivers(sender) as Array<ModelReceiverInfo<Receiver<any>>>;
  }

  /**
   * Sends by hand (TypeORM events send these signals for you), with what a write of one row
   * means: transaction-phase receivers run now, with the payload's `manager` and `queryRunner`;
   * commit- and rollback-phase receivers are queued on that runner's transaction (commit ones run
   * right after the others when there is no transaction, rollback ones then never run); batch
   * receivers get the row as their one item. Resolves to the [receiver, result] pairs of the
   * transaction phase; its first error rejects. The payload is checked against the signal's
   * family, so a hand-made payload cannot lie about what receivers rely on.
   *
   * @example
   * await dataSource.transaction(async (manager) => {
   *   const user = await manager.save(User, { email: 'ada@example.com' });
   *   // e.g. after a raw INSERT TypeORM does not know about:
   *   await postSave.send(User, {
   *     instance: user, created: true, partial: false, source: 'insert', entityId: user.id,
   *     updateFields: undefined, previous: undefined, changes: undefined, data: undefined,
   *     metadata: manager.connection.getMetadata(User), manager, queryRunner: manager.queryRunner!, dataSource,
   *   });
   * });
   */
  override send(sender: Sender, payload: PayloadFamilies<ObjectLiteral, Phase>[F]): Promise<SendResults<Receiver<any>>> {
    return this.sendByHand(sender, payload, 'send');
  }

  /**
   * As send(), but every receiver runs even when some fail: a transaction-phase failure is
   * reported to the configured logger and becomes that receiver's result.
   *
   * @example
   * const results = await postSave.sendRobust(User, payload);
   * for (const [receiver, result] of results) if (result instanceof Error) console.warn(receiver.name, result.message);
   */
  override sendRobust(sender: Sender, payload: PayloadFamilies<ObjectLiteral, Phase>[F]): Promise<SendResults<Receiver<any>>> {
    return this.sendByHand(sender, payload, 'sendRobust');
  }

  private sendByHand(sender: Sender, payload: object, method: 'send' | 'sendRobust'): Promise<SendResults<any>> {
    this.checkSend(sender, payload, method);
    if (this.lookup(sender).length === 0 && currentScope() === undefined) return Promise.resolve([]);
    return sendRow(this as unknown as ModelSignal<Family, Timing>, sender, payload as WriteContext, method === 'sendRobust');
  }

  /** @internal */
  override checkSend(sender: unknown, payload: unknown, method: string): void {
    super.checkSend(sender, payload, method);
    const p = payload as Record<string, unknown>;
    const problem = payloadProblem(this.family, p);
    if (problem) throw new TypeError(`Signal "${this.name}": ${method}() payload ${problem}`);
  }

  /**
   * @internal With DEBUG=typeorm-signals, says why an entity event ran nothing when this signal
   * has receivers for other senders only: the usual cause is a wrong sender class.
   */
  traceOtherSenders(sender: Sender): void {
    let others = this.receivers();
    if (others.length === 0) return;
    const name = describeFunction(sender);
    const namesake = others.filter((r) => r.sender !== sender && typeof r.sender === 'function' && describeFunction(r.sender) === name);
    if (namesake.length > 0) {
      // "sender=User not run (connected for User)" would read as a contradiction: say it is another class.
      trace.skipped(
        this.name,
        sender,
        namesake.map((r) => r.receiver),
        `another class also named ${name}: the receivers were connected for a different class object of that name; ` +
          'usually the entity file is loaded twice (src/ and dist/ both in entities or imports, two paths to one file, or a second copy of the package)',
      );
      others = others.filter((r) => !namesake.includes(r));
      if (others.length === 0) return;
    }
    const senders = [...new Set(others.map((r) => describeFunction(r.sender)))].join(', ');
    trace.skipped(this.name, sender, others.map((r) => r.receiver), `other sender; connected for ${senders}`);
  }

  /** @internal A class sender matches connections made with its entity name too. */
  override senderMatches(connected: Sender, sender: Sender): boolean {
    return sendersMatch(connected, sender);
  }

  protected override allowedOptionKeys(): readonly string[] {
    return ['sender', 'dispatchUid', 'weak', 'phase', 'batch', 'dataSource', 'retry', 'values'];
  }

  protected override disconnectOptionKeys(): readonly string[] {
    return ['sender', 'dispatchUid', 'dataSource'];
  }

  /** @internal phase 'durable' requires a dispatchUid and takes retry/values; the other phases refuse them. */
  protected override connectionMeta(options: Record<string, unknown>): ConnectionPhase {
    const phase = this.checkPhase(options.phase);
    const batch = this.checkBatch(options.batch);
    const dataSource = options.dataSource === undefined ? undefined : checkDataSource(this.name, options.dataSource, 'connect');
    if (phase === 'durable') return { phase, batch, dataSource, durable: checkDurableOptions(this.name, options) };
    for (const key of ['retry', 'values']) {
      if (options[key] !== undefined) {
        throw new TypeError(`Signal "${this.name}": option "${key}" is only for phase 'durable' receivers, which run from a job`);
      }
    }
    return { phase, batch, dataSource };
  }

  /** @internal */
  protected override settingsOf(meta: unknown): ConnectionPhase {
    return meta as ConnectionPhase;
  }

  private checkPhase(phase: unknown): Phase {
    if (phase === undefined || phase === 'transaction') return 'transaction';
    if (!isPhase(phase)) {
      throw new TypeError(
        `Signal "${this.name}": option "phase" must be ${listPhases()}, got ${typeof phase === 'string' ? JSON.stringify(phase) : typeof phase}`,
      );
    }
    if (phase === 'durable' && this.family === 'load') {
      throw new TypeError(
        `Signal "${this.name}": phase 'durable' is not allowed: ${this.name} runs on a read, which commits nothing a job could ` +
          'be committed with; durable receivers are for postSave, postDelete, postSoftDelete, postRestore and m2mChanged',
      );
    }
    if (phase === 'durable' && this.timing === 'pre') {
      throw new TypeError(
        `Signal "${this.name}": phase 'durable' is not allowed: ${this.name} runs before the write and may veto it, ` +
          `while a durable receiver runs later in a worker; use post${this.name.slice(3)} with phase 'durable'`,
      );
    }
    if (this.family === 'load') {
      throw new TypeError(
        `Signal "${this.name}": phase "${phase}" is not allowed: postLoad is sent as each entity is read, and a read ` +
          'commits or rolls back nothing, so there is no later moment to run at; leave the phase out (postLoad receivers run at once). ' +
          'For work after the reading transaction commits, call onCommit(manager, fn) from the receiver',
      );
    }
    if (this.timing === 'pre') {
      const post = `post${this.name.slice('pre'.length)}`;
      throw new TypeError(
        `Signal "${this.name}": phase "${phase}" is not allowed: ${this.name} runs before the write and may veto it by ` +
          `throwing, which a receiver run after COMMIT or ROLLBACK could not do; for work after the write, connect to ${post} ` +
          `with phase "${phase}"`,
      );
    }
    return phase;
  }

  private checkBatch(batch: unknown): boolean {
    if (batch === undefined) return false;
    if (typeof batch !== 'boolean') {
      throw new TypeError(`Signal "${this.name}": option "batch" must be a boolean, got ${typeof batch}`);
    }
    return batch;
  }
}

/** The `dataSource` option must be the DataSource object: a name means nothing outside the NestJS module. */
function checkDataSource(signal: string, value: unknown, method: string): DataSource {
  if (typeof value === 'object' && value !== null && Array.isArray((value as { subscribers?: unknown }).subscribers)) return value as DataSource;
  throw new TypeError(
    `Signal "${signal}": ${method}() option "dataSource" must be a TypeORM DataSource, got ` +
      (typeof value === 'string'
        ? `the string ${JSON.stringify(value)} (a connection name works in @OnSignal of typeorm-signals/nestjs only)`
        : value === null
          ? 'null'
          : typeof value),
  );
}

const sources = new Set(['save', 'insert', 'update', 'upsert', 'remove', 'delete', 'softRemove', 'softDelete', 'recover', 'restore']);

function payloadProblem(family: Family, p: Record<string, unknown>): string | undefined {
  const missing = (['manager', 'dataSource'] as const).find((k) => !(k in p));
  if (missing) return `lacks "${missing}"`;
  switch (family) {
    case 'save':
      if (!('instance' in p) || typeof p.instance !== 'object' || p.instance === null) return 'needs "instance" (the entity object)';
      if (p.created !== true && p.created !== false && p.created !== null) return 'needs "created": true, false or null';
      if (typeof p.partial !== 'boolean') return 'needs "partial": a boolean';
      if (!sources.has(p.source as string)) return `has an unknown "source" (${String(p.source)})`;
      return undefined;
    case 'delete':
      if (!sources.has(p.source as string)) return `has an unknown "source" (${String(p.source)})`;
      return undefined;
    case 'load':
      if (typeof p.instance !== 'object' || p.instance === null) return 'needs "instance" (the loaded entity)';
      return undefined;
    case 'm2m':
      if (p.action !== 'add' && p.action !== 'remove') return 'needs "action": \'add\' or \'remove\'';
      if (!Array.isArray(p.relatedIds)) return 'needs "relatedIds": an array';
      return undefined;
  }
}

/**
 * Sent before an entity is inserted or updated; `created` says which.
 *
 * @example
 * preSave.connect(({ instance, created }) => {
 *   if (created) instance.title = instance.title.trim();
 * }, { sender: Post });
 */
export const preSave = new ModelSignal({ name: 'preSave', family: 'save', timing: 'pre' });
/**
 * Sent after an entity is inserted or updated; `created` says which.
 *
 * @example
 * postSave.connect(async ({ instance, created, manager }) => {
 *   if (created) await manager.insert(UserProfile, { userId: instance.id });
 * }, { sender: User });
 */
export const postSave = new ModelSignal({ name: 'postSave', family: 'save', timing: 'post' });
/**
 * Sent before rows are deleted (remove(), delete()).
 *
 * @example
 * preDelete.connect(({ instance }) => {
 *   if (instance?.email === 'admin@example.com') throw new Error('the admin cannot be deleted'); // vetoes the delete
 * }, { sender: User });
 */
export const preDelete = new ModelSignal({ name: 'preDelete', family: 'delete', timing: 'pre' });
/**
 * Sent after rows are deleted (remove(), delete()).
 *
 * @example
 * postDelete.connect(({ entityId }) => search.remove('users', entityId), { sender: User, phase: 'commit' });
 */
export const postDelete = new ModelSignal({ name: 'postDelete', family: 'delete', timing: 'post' });
/**
 * Sent before rows are soft-deleted (softRemove(), softDelete()).
 *
 * @example
 * preSoftDelete.connect(({ instance }) => audit.log('archiving', instance?.id), { sender: Post });
 */
export const preSoftDelete = new ModelSignal({ name: 'preSoftDelete', family: 'delete', timing: 'pre' });
/**
 * Sent after rows are soft-deleted (softRemove(), softDelete()).
 *
 * @example
 * postSoftDelete.connect(({ entityId }) => cache.delete(`post:${String(entityId)}`), { sender: Post, phase: 'commit' });
 */
export const postSoftDelete = new ModelSignal({ name: 'postSoftDelete', family: 'delete', timing: 'post' });
/**
 * Sent before soft-deleted rows are restored (recover(), restore()).
 *
 * @example
 * preRestore.connect(({ instance }) => audit.log('restoring', instance?.id), { sender: Post });
 */
export const preRestore = new ModelSignal({ name: 'preRestore', family: 'delete', timing: 'pre' });
/**
 * Sent after soft-deleted rows are restored (recover(), restore()).
 *
 * @example
 * postRestore.connect(({ entityId }) => search.reindex('posts', entityId), { sender: Post, phase: 'commit' });
 */
export const postRestore = new ModelSignal({ name: 'postRestore', family: 'delete', timing: 'post' });
/**
 * Sent for every entity loaded from the database.
 *
 * @example
 * postLoad.connect(({ instance }) => {
 *   instance.name ??= instance.email; // a display name for users who gave none
 * }, { sender: User });
 */
export const postLoad = new ModelSignal({ name: 'postLoad', family: 'load', timing: 'post' });
/**
 * Sent after rows are added to or removed from a many-to-many junction table; sender is the owning class.
 *
 * @example
 * m2mChanged.connect(({ action, relation, entityId, relatedIds }) => {
 *   console.log(`${action} ${relation} of post ${String(entityId)}:`, relatedIds);
 * }, { sender: Post });
 */
export const m2mChanged = new ModelSignal({ name: 'm2mChanged', family: 'm2m', timing: 'post' });

/** Every model signal, in a fixed order (introspection, muting). */
export const allModelSignals: readonly ModelSignal<Family, Timing>[] = modelSignals;
