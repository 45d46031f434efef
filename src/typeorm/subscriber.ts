import {
  EventSubscriber,
  type AfterQueryEvent,
  type BeforeQueryEvent,
  type DataSource,
  type EntitySubscriberInterface,
  type InsertEvent,
  type LoadEvent,
  type ObjectLiteral,
  type QueryRunner,
  type RecoverEvent,
  type RemoveEvent,
  type SoftRemoveEvent,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
  type TransactionStartEvent,
  type UpdateEvent,
} from 'typeorm';
import { SignalsError } from '../signals/errors';
import { currentScope } from '../signals/scope';
import { trace } from '../signals/trace';
import type { Sender } from '../signals/types';
import { currentWatch, enqueueFromHook } from './dispatcher';
import { learnEntityNames, senderOf } from './entity-names';
import { checkOtherConnection, watching } from './other-connection';
import type { JunctionRow } from './m2m';
import {
  dataSourceOf,
  insertFields,
  loadFields,
  recoveredFields,
  removedFields,
  shapeOf,
  softRemovedFields,
  updateFields,
} from './events';
import { isNamedStatementEvent } from './criteria-rows';
import { outcomes } from './insert-outcome';
import { readReturning } from './returning';
import { patchQueryBuilders } from './statements';
import { SUBSCRIBER_BRAND, hasSignalsSubscriber, isSignalsSubscriber } from './subscriber-brand';
import { bindQueue } from './durable/binding';
import {
  postDelete,
  postLoad,
  postRestore,
  postSave,
  postSoftDelete,
  preDelete,
  preRestore,
  preSave,
  preSoftDelete,
  m2mChanged,
  type Family,
  type ModelSignal,
  type Timing,
} from './model-signal';
import {
  queryFailed,
  transactionCommitted,
  transactionCommitting,
  transactionRolledBack,
  transactionRollingBack,
  transactionStarted,
} from './transactions';


/**
 * The one TypeORM subscriber that feeds every model signal. List it in the DataSource options
 * (`subscribers: [SignalsSubscriber]`) or call `installSignals(dataSource)` after initialize().
 * When a DataSource holds it twice, only the first copy dispatches: a receiver never runs twice.
 *
 * @example
 * const dataSource = new DataSource({
 *   type: 'postgres',
 *   url: process.env.DATABASE_URL,
 *   entities: [User, UserProfile],
 *   subscribers: [SignalsSubscriber],
 * });
 */
@EventSubscriber()
export class SignalsSubscriber implements EntitySubscriberInterface<ObjectLiteral> {
  /** @internal Marks the subscriber across copies of this package. */
  readonly [SUBSCRIBER_BRAND] = true;

  constructor() {
    patchQueryBuilders();
  }

  // TypeORM re-computes a whole save() when any before-hook exists ("a handler ran"), even one
  // that does nothing: the before-hooks are getters that hide themselves while their signal has
  // no receiver at all and no capture is open, so an idle plugin costs a save() nothing there.
  get beforeInsert() {
    return wanted(preSave) ? this.onBeforeInsert : undefined;
  }

  get beforeUpdate() {
    return wanted(preSave) ? this.onBeforeUpdate : undefined;
  }

  get beforeRemove() {
    return wanted(preDelete) ? this.onBeforeRemove : undefined;
  }

  get beforeSoftRemove() {
    return wanted(preSoftDelete) ? this.onBeforeSoftRemove : undefined;
  }

  get beforeRecover() {
    return wanted(preRestore) ? this.onBeforeRecover : undefined;
  }

  // The after-hooks hide the same way: TypeORM then builds no event object per row. An m2m
  // junction row arrives through afterInsert/afterRemove, and DEBUG traces every skipped send.
  get afterInsert() {
    return wanted(postSave) || wanted(m2mChanged) || trace.enabled ? this.onAfterInsert : undefined;
  }

  get afterUpdate() {
    return wanted(postSave) || trace.enabled ? this.onAfterUpdate : undefined;
  }

  get afterRemove() {
    return wanted(postDelete) || wanted(m2mChanged) || trace.enabled ? this.onAfterRemove : undefined;
  }

  get afterSoftRemove() {
    return wanted(postSoftDelete) || trace.enabled ? this.onAfterSoftRemove : undefined;
  }

  get afterRecover() {
    return wanted(postRestore) || trace.enabled ? this.onAfterRecover : undefined;
  }

  get afterLoad() {
    return wanted(postLoad) || trace.enabled ? this.onAfterLoad : undefined;
  }

  // Only while a transaction-phase receiver runs in an open transaction (other-connection.ts):
  // TypeORM sees no query hooks the rest of the time.
  get beforeQuery() {
    return watching() ? this.onBeforeQuery : undefined;
  }

  get beforeTransactionStart() {
    return watching() ? this.onBeforeTransactionStart : undefined;
  }

  private onBeforeQuery(event: BeforeQueryEvent) {
    checkOtherConnection(currentWatch(), event.queryRunner);
  }

  private onBeforeTransactionStart(event: TransactionStartEvent) {
    checkOtherConnection(currentWatch(), event.queryRunner);
  }

  private onBeforeInsert(event: InsertEvent<ObjectLiteral>) {
    return this.row(event.queryRunner, preSave, event.metadata, insertFields, event);
  }

  private onAfterInsert(event: InsertEvent<ObjectLiteral>) {
    // An upsert/orIgnore row the statement left alone was not written (PostgreSQL; insert-outcome.ts).
    if (outcomes.get(event.entity) === 'untouched') return undefined;
    if (event.metadata.isJunction) return this.junction(event.queryRunner, event.metadata, 'add', (event.entityId as ObjectLiteral) ?? event.entity);
    return this.row(event.queryRunner, postSave, event.metadata, insertFields, event);
  }

  private onBeforeUpdate(event: UpdateEvent<ObjectLiteral>) {
    if (isNamedStatementEvent(event.queryRunner, event.metadata, event.entity)) return undefined;
    return this.row(event.queryRunner, preSave, event.metadata, updateFields, event);
  }

  private onAfterUpdate(event: UpdateEvent<ObjectLiteral>) {
    if (isNamedStatementEvent(event.queryRunner, event.metadata, event.entity)) return undefined;
    return this.row(event.queryRunner, postSave, event.metadata, updateFields, event);
  }

  private onBeforeRemove(event: RemoveEvent<ObjectLiteral>) {
    if (isNamedStatementEvent(event.queryRunner, event.metadata, event.entity)) return undefined;
    return this.row(event.queryRunner, preDelete, event.metadata, removedFields, event);
  }

  private onAfterRemove(event: RemoveEvent<ObjectLiteral>) {
    if (isNamedStatementEvent(event.queryRunner, event.metadata, event.entity)) return undefined;
    if (event.metadata.isJunction) return this.junction(event.queryRunner, event.metadata, 'remove', (event.entityId as ObjectLiteral) ?? event.databaseEntity);
    return this.row(event.queryRunner, postDelete, event.metadata, removedFields, event);
  }

  private onBeforeSoftRemove(event: SoftRemoveEvent<ObjectLiteral>) {
    if (isNamedStatementEvent(event.queryRunner, event.metadata, event.entity)) return undefined;
    return this.row(event.queryRunner, preSoftDelete, event.metadata, softRemovedFields, event);
  }

  private onAfterSoftRemove(event: SoftRemoveEvent<ObjectLiteral>) {
    if (isNamedStatementEvent(event.queryRunner, event.metadata, event.entity)) return undefined;
    return this.row(event.queryRunner, postSoftDelete, event.metadata, softRemovedFields, event);
  }

  private onBeforeRecover(event: RecoverEvent<ObjectLiteral>) {
    if (isNamedStatementEvent(event.queryRunner, event.metadata, event.entity)) return undefined;
    return this.row(event.queryRunner, preRestore, event.metadata, recoveredFields, event);
  }

  private onAfterRecover(event: RecoverEvent<ObjectLiteral>) {
    if (isNamedStatementEvent(event.queryRunner, event.metadata, event.entity)) return undefined;
    return this.row(event.queryRunner, postRestore, event.metadata, recoveredFields, event);
  }

  private onAfterLoad(entity: ObjectLiteral, event?: LoadEvent<ObjectLiteral>) {
    if (!event) return undefined;
    return this.row(event.queryRunner, postLoad, event.metadata, loadFields, { entity, event });
  }

  afterQuery(event: AfterQueryEvent) {
    if (event.success) readReturning(event);
    else if (this.isActiveFor(event.queryRunner)) queryFailed(event.queryRunner, event.error);
  }

  afterTransactionStart(event: TransactionStartEvent) {
    if (this.isActiveFor(event.queryRunner)) transactionStarted(event.queryRunner);
  }

  beforeTransactionCommit(event: TransactionCommitEvent) {
    if (this.isActiveFor(event.queryRunner)) transactionCommitting(event.queryRunner);
  }

  afterTransactionCommit(event: TransactionCommitEvent) {
    if (this.isActiveFor(event.queryRunner)) return transactionCommitted(event.queryRunner);
    return undefined;
  }

  beforeTransactionRollback(event: TransactionRollbackEvent) {
    if (this.isActiveFor(event.queryRunner)) transactionRollingBack(event.queryRunner);
  }

  afterTransactionRollback(event: TransactionRollbackEvent) {
    if (this.isActiveFor(event.queryRunner)) return transactionRolledBack(event.queryRunner);
    return undefined;
  }

  /**
   * The hot path of every write: when nothing listens for this (signal, sender) and no capture
   * is open, it returns without building a payload or a promise.
   */
  private row<S>(
    runner: QueryRunner,
    signal: ModelSignal<Family, Timing>,
    metadata: import('typeorm').EntityMetadata,
    build: (source: S) => object,
    source: S,
  ): Promise<void> | undefined {
    const sender: Sender = senderOf(metadata);
    if (!signal.hasListeners(sender) && currentScope() === undefined) {
      if (trace.enabled) signal.traceOtherSenders(sender);
      return undefined;
    }
    if (!this.isActiveFor(runner)) return undefined;
    learnEntityNames(dataSourceOf(runner));
    return enqueueFromHook(runner, { signal, sender, build, source, shape: shapeOf(build) });
  }

  private junction(runner: QueryRunner, metadata: import('typeorm').EntityMetadata, action: 'add' | 'remove', key: ObjectLiteral | undefined) {
    if (!m2mChanged.hasListeners() && currentScope() === undefined) return undefined;
    if (!this.isActiveFor(runner)) return undefined;
    const row: JunctionRow = { junction: true, signal: m2mChanged, action, metadata, key };
    return enqueueFromHook(runner, row);
  }

  /** Only the first typeorm-signals subscriber of a DataSource dispatches. */
  private isActiveFor(runner: QueryRunner): boolean {
    const subscribers = dataSourceOf(runner).subscribers;
    for (const s of subscribers) if (isSignalsSubscriber(s)) return s === this;
    return false;
  }
}

/** Whether a signal's hook must be visible to TypeORM: some receiver, or a capture that records every send. */
function wanted(signal: ModelSignal<Family, Timing>): boolean {
  return signal.hasListeners() || currentScope() !== undefined;
}

/**
 * The options of installSignals().
 *
 * @example
 * installSignals(dataSource, { durable: boss });
 */
export interface InstallSignalsOptions {
  /**
   * The application's started PgBoss instance (pg-boss >= 12): the queue of this DataSource's
   * durable receivers. PostgreSQL only.
   */
  durable?: unknown;
}

/**
 * Adds the signals subscriber to an initialized DataSource (for DataSources you do not create
 * yourself, e.g. NestJS's). Idempotent: a DataSource that already has one keeps it. With
 * `{ durable: boss }` it also binds the queue that phase 'durable' receivers enqueue to.
 * Returns a function that removes what this call added.
 *
 * @example
 * await dataSource.initialize();
 * const uninstall = installSignals(dataSource);
 * // with durable receivers:
 * const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, migrate: false });
 * await boss.start();
 * installSignals(dataSource, { durable: boss });
 */
export function installSignals(dataSource: DataSource, options: InstallSignalsOptions = {}): () => void {
  if (dataSource === null || typeof dataSource !== 'object' || !Array.isArray((dataSource as { subscribers?: unknown }).subscribers)) {
    throw new TypeError('installSignals(): expected a TypeORM DataSource');
  }
  if (typeof options !== 'object' || options === null) throw new TypeError('installSignals(): options must be an object { durable? }');
  for (const key of Object.keys(options)) {
    if (key !== 'durable') throw new TypeError(`installSignals(): unknown option "${key}" (known: durable)`);
  }
  if (!dataSource.isInitialized) {
    throw new SignalsError(
      'installSignals(): the DataSource is not initialized; call installSignals() after dataSource.initialize() ' +
        '(TypeORM replaces the subscribers list during initialize), or list SignalsSubscriber in its subscribers option',
    );
  }
  learnEntityNames(dataSource);
  const unbind = 'durable' in options ? bindQueue(dataSource, options.durable) : () => undefined;
  if (hasSignalsSubscriber(dataSource)) return unbind;
  const subscriber = new SignalsSubscriber();
  (dataSource.subscribers as EntitySubscriberInterface[]).push(subscriber);
  return () => {
    unbind();
    const list = dataSource.subscribers as EntitySubscriberInterface[];
    const index = list.indexOf(subscriber);
    if (index >= 0) list.splice(index, 1);
  };
}
