import type { DataSource, EntityManager, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { Sender } from '../signals/types';

/**
 * When a receiver runs:
 * - 'transaction': inside the write's transaction, before COMMIT (TypeORM's own timing); its
 *   error rolls the write back.
 * - 'commit': after the outermost transaction committed (at once for an autocommit write).
 * - 'rollback': after the transaction that held the write rolled back.
 */
export type Phase = 'transaction' | 'commit' | 'rollback';

/** The TypeORM call that caused the event. */
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

/** A primary key: the value for a one-column key, an object of values for a composite one. */
export type EntityId = string | number | bigint | Date | ObjectLiteral;

/** What changed in an update: `{ field: { from, to } }`. */
export type Changes<E> = { readonly [K in keyof E]?: { readonly from: E[K]; readonly to: E[K] } };

/**
 * Where a receiver may do database work. In the 'transaction' phase `manager` and `queryRunner`
 * are the write's own (work joins its transaction). In 'commit' and 'rollback' the transaction is
 * over: `manager` is the DataSource's (writes autocommit) and `queryRunner` is undefined.
 */
export interface WriteContext<Ph extends Phase = Phase> {
  readonly manager: EntityManager;
  readonly queryRunner: Ph extends 'transaction' ? QueryRunner : undefined;
  readonly dataSource: DataSource;
}

interface SaveFields<E> {
  /** Changed property names (the SET keys for update()), or undefined when TypeORM does not know. */
  readonly updateFields: readonly string[] | undefined;
  /** The database row before an update (save() of an existing entity), else undefined: unknown, not "unchanged". */
  readonly previous: Readonly<E> | undefined;
  /** `{ field: { from, to } }` when the old values are known, else undefined. */
  readonly changes: Changes<E> | undefined;
  /** The primary key whenever TypeORM or the entity can give it. */
  readonly entityId: EntityId | undefined;
  readonly source: WriteSource;
  readonly metadata: EntityMetadata;
  /** SaveOptions.data of the save() call (queryRunner.data), if any. */
  readonly data: ObjectLiteral | undefined;
}

/**
 * The payload of preSave/postSave. Discriminated by `partial`: an update() statement only knows
 * the values it SETs, so `instance` is then a `Partial<E>`. `if (created)` or `if (!partial)`
 * narrows `instance` to the whole entity.
 *
 * `created` is true for an insert, false for an update, and null where TypeORM cannot tell
 * (upsert(), insert().orIgnore()).
 */
export type SavePayload<E = ObjectLiteral, Ph extends Phase = Phase> = SaveFields<E> &
  WriteContext<Ph> &
  (
    | { readonly partial: false; readonly created: boolean | null; readonly instance: E }
    | { readonly partial: true; readonly created: false; readonly instance: Partial<E> }
  );

/** The payload of the delete, soft-delete and restore signals. */
export interface DeletePayload<E = ObjectLiteral, Ph extends Phase = Phase> extends WriteContext<Ph> {
  /** The entity passed to remove()/softRemove()/recover(); undefined for delete()/softDelete()/restore() statements. */
  readonly instance: E | undefined;
  readonly entityId: EntityId | undefined;
  /** The row as loaded before the write (remove()/softRemove()/recover()), else undefined. */
  readonly previous: Readonly<E> | undefined;
  readonly source: WriteSource;
  readonly metadata: EntityMetadata;
}

/** The payload of postLoad. */
export interface LoadPayload<E = ObjectLiteral> extends WriteContext<'transaction'> {
  readonly instance: E;
  readonly entityId: EntityId | undefined;
  readonly metadata: EntityMetadata;
}

/** The payload of m2mChanged: rows added to or removed from a many-to-many junction table. */
export interface M2MPayload<Ph extends Phase = Phase> extends WriteContext<Ph> {
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

/** What a batch receiver is called with: one write operation's rows at once. */
export interface BatchPayload<Item, Ph extends Phase = Phase> extends WriteContext<Ph> {
  readonly items: readonly Item[];
}
