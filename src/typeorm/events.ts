// Turns TypeORM's event objects into the library's payload fields. Everything here runs only
// when a receiver (or a capture) wants the event: the subscriber checks that first.

import type {
  DataSource,
  EntityMetadata,
  InsertEvent,
  LoadEvent,
  ObjectLiteral,
  QueryRunner,
  RemoveEvent,
  UpdateEvent,
} from 'typeorm';
import { insertKinds } from './insert-kind';
import { outcomes } from './insert-outcome';
import type { Changes, EntityId, SavePayload, WriteSource } from './payloads';
import type { WriteContext } from './phases';
import type { ArgsCopy } from '../signals/runner';
import type { Sender } from '../signals/types';


/** TypeORM 1.x has runner.dataSource; 0.3 has runner.connection. */
export function dataSourceOf(runner: QueryRunner): DataSource {
  return ((runner as { dataSource?: DataSource }).dataSource ?? runner.connection) as DataSource;
}

function idOf(metadata: EntityMetadata, entity: ObjectLiteral | undefined): EntityId | undefined {
  if (!entity) return undefined;
  try {
    const id = metadata.getEntityIdMixedMap(entity) as EntityId | undefined;
    return id === null ? undefined : id;
  } catch {
    return undefined;
  }
}

/** A frozen copy: one receiver must not change what the next one sees as the old row. */
function snapshot<T extends ObjectLiteral>(row: T | undefined): Readonly<T> | undefined {
  return row ? Object.freeze({ ...row }) : undefined;
}

type SaveRow = Omit<SavePayload, keyof WriteContext>;

/**
 * @internal The fields of a save payload, always with the same ten keys in the same order (one object
 * shape for V8, and a new field cannot be forgotten in one of the builders); the four that are
 * often unknown default to undefined.
 */
export function saveFields(
  fields: Omit<SaveRow, 'updateFields' | 'previous' | 'changes' | 'entityId'> & Partial<Pick<SaveRow, 'updateFields' | 'previous' | 'changes' | 'entityId'>>,
): SaveRow {
  return {
    instance: fields.instance,
    created: fields.created,
    updateFields: fields.updateFields,
    previous: fields.previous,
    changes: fields.changes,
    entityId: fields.entityId,
    source: fields.source,
    partial: fields.partial,
    metadata: fields.metadata,
    data: fields.data,
  } as SaveRow;
}

/**
 * @internal How the payloads of one fields builder are copied: `args` for a receiver's
 * arguments (Delivery.copy), `item` for a batch item (the fields, then the context). Both give
 * what Object.assign would, key for key and in the same order; as one object literal they are
 * several times faster for a payload of ten fields.
 */
export interface PayloadShape {
  readonly args: ArgsCopy;
  readonly item: (fields: any, context: WriteContext) => object;
}

/** The copies of saveFields()'s shape (and insertFields()'s, which builds the same keys in place). */
const saveItem = (f: SaveRow, c: WriteContext) => ({
  instance: f.instance,
  created: f.created,
  updateFields: f.updateFields,
  previous: f.previous,
  changes: f.changes,
  entityId: f.entityId,
  source: f.source,
  partial: f.partial,
  metadata: f.metadata,
  data: f.data,
  manager: c.manager,
  queryRunner: c.queryRunner,
  dataSource: c.dataSource,
});
const saveShape: PayloadShape = {
  // the item plus signal and sender: adding two keys to the literal costs no more than a longer literal
  args: (f: SaveRow, c: WriteContext, signal: unknown, sender: Sender) => Object.assign(saveItem(f, c), { signal, sender }),
  item: saveItem,
};

/** @internal The shape of a builder's payloads, when it is one whose keys are fixed (see PayloadShape). */
export function shapeOf(build: Function): PayloadShape | undefined {
  return build === insertFields || build === updateFields ? saveShape : undefined;
}

export function insertFields(event: InsertEvent<ObjectLiteral>) {
  const kind = insertKinds.get(event.entity);
  const source: WriteSource = kind === undefined ? 'save' : kind === 'upsert' ? 'upsert' : 'insert';
  // TypeORM fires insert events for upserted and ignored rows alike: only PostgreSQL's RETURNING
  // (insert-outcome.ts) tells which; elsewhere the truth is unknown.
  const outcome = kind === 'upsert' || kind === 'insertOrIgnore' ? outcomes.get(event.entity) : undefined;
  const known = typeof outcome === 'object' ? outcome : undefined;
  // saveFields()'s keys in its order, built in place: one object per row of a bulk insert, not two.
  const fields: SaveRow = {
    instance: event.entity,
    created: kind === 'upsert' || kind === 'insertOrIgnore' ? (known?.created ?? null) : true,
    updateFields: undefined,
    previous: undefined,
    changes: undefined,
    // TypeORM copies orIgnore()'s generated ids by position, onto the wrong rows when some were skipped.
    entityId: known?.entityId ?? (event.entityId as EntityId | undefined) ?? idOf(event.metadata, event.entity),
    source,
    partial: false,
    metadata: event.metadata,
    data: dataOf(event.queryRunner),
  } as SaveRow;
  return fields;
}

export function updateFields(event: UpdateEvent<ObjectLiteral>) {
  const { metadata, databaseEntity } = event;
  const entity = event.entity ?? {};
  // save() loads the row first and lists the changed columns; update() knows only its SET keys.
  const fromSave = databaseEntity !== undefined || event.updatedColumns.length > 0;
  if (!fromSave) {
    return saveFields({
      instance: entity,
      created: false,
      updateFields: Object.keys(entity),
      entityId: idOf(metadata, entity),
      source: 'update',
      partial: true,
      metadata,
      data: dataOf(event.queryRunner),
    });
  }
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  const names: string[] = [];
  for (const column of event.updatedColumns) {
    names.push(column.propertyPath);
    changed[column.propertyPath] = Object.freeze({
      from: databaseEntity ? column.getEntityValue(databaseEntity) : undefined,
      to: column.getEntityValue(entity),
    });
  }
  for (const relation of event.updatedRelations) names.push(relation.propertyPath);
  return saveFields({
    instance: entity,
    created: false,
    updateFields: Object.freeze(names),
    previous: snapshot(databaseEntity),
    changes: databaseEntity ? (Object.freeze(changed) as Changes<ObjectLiteral>) : undefined,
    entityId: idOf(metadata, entity) ?? idOf(metadata, databaseEntity),
    source: 'save',
    partial: false,
    metadata,
    data: dataOf(event.queryRunner),
  });
}

const statementSource = { remove: 'delete', softRemove: 'softDelete', recover: 'restore' } as const;

function removeFields(event: RemoveEvent<ObjectLiteral>, kind: 'remove' | 'softRemove' | 'recover') {
  const known = event.entity !== undefined || event.databaseEntity !== undefined || event.entityId !== undefined;
  return {
    instance: event.entity,
    entityId: (event.entityId as EntityId | undefined) ?? idOf(event.metadata, event.databaseEntity) ?? idOf(event.metadata, event.entity),
    previous: snapshot(event.databaseEntity),
    // delete()/softDelete()/restore() statements carry only the metadata
    source: (known ? kind : statementSource[kind]) as WriteSource,
    metadata: event.metadata,
  };
}

export const removedFields = (event: RemoveEvent<ObjectLiteral>) => removeFields(event, 'remove');
export const softRemovedFields = (event: RemoveEvent<ObjectLiteral>) => removeFields(event, 'softRemove');
export const recoveredFields = (event: RemoveEvent<ObjectLiteral>) => removeFields(event, 'recover');

export function loadFields({ entity, event }: { entity: ObjectLiteral; event: LoadEvent<ObjectLiteral> }) {
  return { instance: entity, entityId: idOf(event.metadata, entity), metadata: event.metadata };
}

function dataOf(runner: QueryRunner): ObjectLiteral | undefined {
  const data = runner.data as ObjectLiteral | undefined;
  if (!data) return undefined;
  // An own enumerable key, without the array Object.keys() would build for every row.
  for (const key in data) if (Object.prototype.hasOwnProperty.call(data, key)) return data;
  return undefined;
}
