import type { DataSource, EntityManager, ObjectLiteral } from 'typeorm';
import type { ReceiverArgs } from '../../signals/signal';
import type { Sender } from '../../signals/types';
import type { Changes, EntityId, WriteSource } from '../payloads';

/**
 * What every durable receiver call gets besides the row(s): where to do database work and
 * which delivery this is.
 *
 * @example
 * postSave.connect(async ({ deliveryId, attempt, manager }) => {
 *   await mailer.send({ idempotencyKey: deliveryId }); // the same key on every retry
 *   if (attempt > 1) await manager.increment(MailStats, { id: 1 }, 'retries', 1);
 * }, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' });
 */
export interface DurableContext {
  /** The job id given when the write enqueued it: the same on every retry and after a redrive from the dead-letter queue. The idempotency key for external calls. */
  readonly deliveryId: string;
  /** 1 on the first attempt, 2 on the first retry, ... (a redriven job counts from 1 again). */
  readonly attempt: number;
  /** The worker transaction's manager: writes through it commit with the job's completion, or not at all. */
  readonly manager: EntityManager;
  /** The worker's DataSource. */
  readonly dataSource: DataSource;
}

/**
 * One saved row, as a durable receiver of postSave gets it: ids and flags from the job's JSON,
 * never the live entity. `changes` and `previous` only with `values: true`.
 *
 * @example
 * postSave.connect(async ({ created, load }: DurableSaveItem<User>) => {
 *   const user = created ? await load() : null;
 * }, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' });
 */
export interface DurableSaveItem<E = ObjectLiteral> {
  /** The primary key of the written row (undefined when TypeORM could not give it). */
  readonly entityId: EntityId | undefined;
  /** true inserted, false updated, null unknown (upsert(), insert().orIgnore()). */
  readonly created: boolean | null;
  /** The TypeORM call that wrote the row. */
  readonly source: WriteSource;
  /** true for an update() statement, which knows only its SET keys. */
  readonly partial: boolean;
  /** Changed property names, when TypeORM knows them. */
  readonly updateFields: readonly string[] | undefined;
  /** SaveOptions.data of the write, if any. */
  readonly data: ObjectLiteral | undefined;
  /** `{ field: { from, to } }` of an update: only with `values: true`. */
  readonly changes?: Changes<E>;
  /** The row before an update: only with `values: true`. */
  readonly previous?: Readonly<E>;
  /** The row as it is now in the worker's transaction (soft-deleted rows included), or null when it was deleted since. */
  load(): Promise<E | null>;
}

/**
 * One deleted, soft-deleted or restored row, as a durable receiver gets it.
 *
 * @example
 * postDelete.connect(({ entityId }: DurableDeleteItem<User>) => search.remove('users', entityId), {
 *   sender: User, phase: 'durable', dispatchUid: 'search-remove-user',
 * });
 */
export interface DurableDeleteItem<E = ObjectLiteral> {
  /** The primary key, when TypeORM knew the row (undefined for delete() statements). */
  readonly entityId: EntityId | undefined;
  /** The TypeORM call. */
  readonly source: WriteSource;
  /** The row as loaded before the write: only with `values: true`. */
  readonly previous?: Readonly<E>;
  /** The row as it is now (null after a delete; the soft-deleted row after a soft delete). */
  load(): Promise<E | null>;
}

/**
 * One m2mChanged row (one owner's junction rows added or removed), as a durable receiver gets it.
 *
 * @example
 * m2mChanged.connect(({ action, relatedIds }: DurableM2MItem) => tagCounts.update(action, relatedIds), {
 *   sender: Post, phase: 'durable', dispatchUid: 'tag-counts',
 * });
 */
export interface DurableM2MItem {
  /** 'add' or 'remove'. */
  readonly action: 'add' | 'remove';
  /** The owning entity's relation property. */
  readonly relation: string;
  /** The owner's id. */
  readonly entityId: EntityId;
  /** The related entities' ids. */
  readonly relatedIds: readonly EntityId[];
  /** The related entity class (the entity name when the worker does not know it). */
  readonly model: Sender;
  /** The owner as it is now, or null. */
  load(): Promise<ObjectLiteral | null>;
}

/**
 * The row types of durable receivers, per payload family.
 *
 * @example
 * type SavedUser = DurableItems<User>['save']; // DurableSaveItem<User>
 */
export interface DurableItems<E> {
  /** postSave. */
  save: DurableSaveItem<E>;
  /** postDelete, postSoftDelete, postRestore. */
  delete: DurableDeleteItem<E>;
  /** m2mChanged. */
  m2m: DurableM2MItem;
  /** postLoad cannot be durable. */
  load: never;
}

/**
 * A per-row durable receiver: one call (one job) per row.
 *
 * @example
 * const sendWelcomeMail: DurableReceiver<'save', User> = async ({ created, load, deliveryId }) => {
 *   const user = created ? await load() : null;
 *   if (user) await mailer.welcome(user.email, { idempotencyKey: deliveryId });
 * };
 */
export type DurableReceiver<F extends keyof DurableItems<unknown>, E, S = Sender> = (
  args: ReceiverArgs<DurableItems<E>[F] & DurableContext, S>,
) => unknown;

/**
 * A batch durable receiver: one call (one job) per write, with all its rows as `items`.
 *
 * @example
 * const reindexUsers: DurableBatchReceiver<'save', User> = async ({ items }) => {
 *   await search.reindex('users', items.map((item) => item.entityId));
 * };
 */
export type DurableBatchReceiver<F extends keyof DurableItems<unknown>, E, S = Sender> = (
  args: ReceiverArgs<{ readonly items: readonly DurableItems<E>[F][] } & DurableContext, S>,
) => unknown;
