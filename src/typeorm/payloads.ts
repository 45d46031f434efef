import type { EntityMetadata, ObjectLiteral } from 'typeorm';
import type { Sender } from '../signals/types';
import type { Phase, WriteContext } from './phases';

/**
 * The TypeORM call that caused the event.
 *
 * @example
 * postSave.connect(({ source, created }) => {
 *   if (source === 'upsert' && created === null) return; // MySQL, MariaDB, SQLite: cannot tell
 * });
 */
export type WriteSource =
  | 'save'
  | 'insert'
  | 'update'
  | 'upsert'
  | 'remove'
  | 'delete'
  | 'softRemove'
  | 'softDelete'
  | 'recover'
  | 'restore';

/**
 * A primary key: the value for a one-column key, an object of values for a composite one.
 *
 * @example
 * postDelete.connect(({ entityId }) => cache.delete(`user:${String(entityId)}`), { sender: User });
 */
export type EntityId = string | number | bigint | Date | ObjectLiteral;

/**
 * What changed in an update: `{ field: { from, to } }`.
 *
 * @example
 * postSave.connect(({ changes }) => {
 *   if (changes?.email) audit.log('email changed', changes.email.from, changes.email.to);
 * }, { sender: User });
 */
export type Changes<E> = {
  readonly [K in keyof E]?: {
    /** The value before the write. */
    readonly from: E[K];
    /** The value written. */
    readonly to: E[K];
  };
};

/**
 * The fields of a save payload that do not depend on `partial` (see SavePayload).
 *
 * @example
 * function describeSave({ source, entityId, updateFields }: SaveFields<User>) {
 *   return `${source} of user ${String(entityId)}: ${updateFields?.join(', ') ?? 'all fields'}`;
 * }
 */
export interface SaveFields<E> {
  /** Changed property names (the SET keys for update()), or undefined when TypeORM does not know. */
  readonly updateFields: readonly string[] | undefined;
  /** The database row before an update (save() of an existing entity, an update() statement's row), else undefined: unknown, not "unchanged". */
  readonly previous: Readonly<E> | undefined;
  /** `{ field: { from, to } }` when the old values are known, else undefined. */
  readonly changes: Changes<E> | undefined;
  /** The primary key whenever TypeORM or the entity can give it. */
  readonly entityId: EntityId | undefined;
  /** The TypeORM call that wrote the row. */
  readonly source: WriteSource;
  /** The entity's TypeORM metadata. */
  readonly metadata: EntityMetadata;
  /** SaveOptions.data of the save() call (queryRunner.data), if any. */
  readonly data: ObjectLiteral | undefined;
}

/**
 * The payload of preSave/postSave, one per row written. Discriminated by `partial`: before an
 * update() statement runs (preSave) only the values it SETs are known, so `instance` is then a
 * `Partial<E>`; postSave of an update() statement carries the whole row as written, the row
 * before and the changes. `if (created)` or `if (!partial)` narrows `instance` to the whole entity.
 *
 * `created` is true for an insert, false for an update. For upsert(), insert().orUpdate() and
 * insert().orIgnore() PostgreSQL (and PGlite) tell per row (orIgnore() sends only the rows it
 * inserted); on MySQL, MariaDB and SQLite `created` is null there: the database cannot tell.
 *
 * @example
 * postSave.connect(({ instance, created, previous }: SavePayload<User>) => {
 *   if (created) return welcome(instance); // instance: User
 *   if (previous && previous.email !== instance.email) return confirmEmail(instance);
 * }, { sender: User });
 */
export type SavePayload<E = ObjectLiteral, Ph extends Phase = Phase> = SaveFields<E> &
  WriteContext<Ph> &
  (
    | {
        /** false: `instance` is the whole entity (save(), insert(), upsert()). */
        readonly partial: false;
        /** true inserted, false updated, null unknown (upsert()/orIgnore() off PostgreSQL). */
        readonly created: boolean | null;
        /** The entity written: the very object passed to save() or insert(). */
        readonly instance: E;
      }
    | {
        /** true: preSave of an update() statement, which knows only the values it SETs (and the row before). */
        readonly partial: true;
        /** Always false: an update() statement inserts nothing. */
        readonly created: false;
        /** Only the SET values of the update() statement (the statement's own object: changing it changes the statement). */
        readonly instance: Partial<E>;
      }
  );

/**
 * The payload of the delete, soft-delete and restore signals.
 *
 * @example
 * postDelete.connect(({ entityId, previous }: DeletePayload<User>) => {
 *   if (entityId !== undefined) search.remove('users', entityId); // one payload per row deleted
 * }, { sender: User, phase: 'commit' });
 */
export interface DeletePayload<E = ObjectLiteral, Ph extends Phase = Phase> extends WriteContext<Ph> {
  /**
   * The entity passed to remove()/softRemove()/recover(). For delete()/softDelete()/restore()
   * statements the row read from the database: as it was (delete, and every pre signal), as
   * written (postSoftDelete, postRestore).
   */
  readonly instance: E | undefined;
  /** The row's primary key (undefined only for an entity without one). */
  readonly entityId: EntityId | undefined;
  /** The row as it was before the write: loaded by remove()/softRemove()/recover(), read by delete()/softDelete()/restore() statements. */
  readonly previous: Readonly<E> | undefined;
  /** The TypeORM call that deleted, soft-deleted or restored the row. */
  readonly source: WriteSource;
  /** The entity's TypeORM metadata. */
  readonly metadata: EntityMetadata;
}

/**
 * The payload of postLoad.
 *
 * @example
 * postLoad.connect(({ instance }: LoadPayload<User>) => {
 *   instance.name ??= instance.email; // a display name for users who gave none
 * }, { sender: User });
 */
export interface LoadPayload<E = ObjectLiteral> extends WriteContext<'transaction'> {
  /** The entity as TypeORM loaded it (a partial object when the query selected some columns). */
  readonly instance: E;
  /** Its primary key, when the loaded columns include it. */
  readonly entityId: EntityId | undefined;
  /** The entity's TypeORM metadata. */
  readonly metadata: EntityMetadata;
}

/**
 * The payload of m2mChanged: rows added to or removed from a many-to-many junction table.
 *
 * @example
 * m2mChanged.connect(({ action, relation, entityId, relatedIds }: M2MPayload) => {
 *   if (relation === 'tags') tagCounts.update(action, entityId, relatedIds);
 * }, { sender: Post });
 */
export interface M2MPayload<Ph extends Phase = Phase> extends WriteContext<Ph> {
  /** 'add' for junction rows inserted, 'remove' for junction rows deleted. */
  readonly action: 'add' | 'remove';
  /** The owning entity's property that holds the relation. */
  readonly relation: string;
  /** The owning entity's id. */
  readonly entityId: EntityId;
  /** The ids of the related entities added or removed. */
  readonly relatedIds: readonly EntityId[];
  /** The related entity class (or entity name). */
  readonly model: Sender;
  /** The junction table's metadata. */
  readonly metadata: EntityMetadata;
}

/**
 * What a batch receiver is called with: one write operation's rows at once.
 *
 * @example
 * postSave.connect(async ({ items, manager }: BatchPayload<SavePayload<User>>) => {
 *   const ids = items.filter((item) => item.created).map((item) => item.entityId);
 *   await manager.getRepository(UserProfile).insert(ids.map((userId) => ({ userId: Number(userId) })));
 * }, { sender: User, batch: true });
 */
export interface BatchPayload<Item, Ph extends Phase = Phase> extends WriteContext<Ph> {
  /** One payload per row of the write, in the order TypeORM wrote them. */
  readonly items: readonly Item[];
}
