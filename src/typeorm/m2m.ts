// Many-to-many: TypeORM writes junction-table rows with insert and remove events of the junction
// entity. The subscriber collects them as JunctionRows; the dispatcher turns them, at flush time,
// into one m2mChanged row per (relation, action, owner) with the related ids.

import type { DataSource, EntityMetadata, ObjectLiteral, QueryRunner } from 'typeorm';
import type { Sender } from '../signals/types';
import type { Row } from './dispatcher';
import { dataSourceOf } from './events';
import type { Family, ModelSignal, Timing } from './model-signal';
import type { EntityId } from './payloads';

/** @internal A junction-table row, turned into m2mChanged rows (grouped per owner) at flush time. */
export interface JunctionRow {
  readonly junction: true;
  /** m2mChanged, passed by the subscriber (this module imports no signal). */
  readonly signal: ModelSignal<Family, Timing>;
  readonly action: 'add' | 'remove';
  readonly metadata: EntityMetadata;
  readonly key: ObjectLiteral | undefined;
}

/** The owning side of a junction table: which entity, which property, which related model. */
interface JunctionInfo {
  owner: Sender;
  relation: string;
  model: Sender;
  ownerColumns: readonly string[];
  relatedColumns: readonly string[];
}

const junctions = new WeakMap<EntityMetadata, JunctionInfo | null>();

function junctionInfo(dataSource: DataSource, junction: EntityMetadata): JunctionInfo | undefined {
  let info = junctions.get(junction);
  if (info === undefined) {
    info = null;
    for (const metadata of dataSource.entityMetadatas) {
      const relation = metadata.manyToManyRelations.find((r) => r.isOwning && r.junctionEntityMetadata === junction);
      if (!relation) continue;
      info = {
        owner: metadata.target as Sender,
        relation: relation.propertyName,
        model: relation.inverseEntityMetadata.target as Sender,
        ownerColumns: junction.ownerColumns.map((c) => c.propertyName),
        relatedColumns: junction.inverseColumns.map((c) => c.propertyName),
      };
      break;
    }
    junctions.set(junction, info);
  }
  return info ?? undefined;
}

/** The owner's and the related entity's ids from a junction row's key map. */
function junctionIds(info: JunctionInfo, key: ObjectLiteral): { owner: EntityId; related: EntityId } {
  const pick = (columns: readonly string[]): EntityId =>
    columns.length === 1 ? key[columns[0]] : Object.freeze(Object.fromEntries(columns.map((c) => [c, key[c]])));
  return { owner: pick(info.ownerColumns), related: pick(info.relatedColumns) };
}

interface JunctionGroup {
  info: JunctionInfo;
  action: 'add' | 'remove';
  owner: EntityId;
  related: EntityId[];
  metadata: EntityMetadata;
}

function m2mFields(group: JunctionGroup): object {
  return {
    action: group.action,
    relation: group.info.relation,
    entityId: group.owner,
    relatedIds: Object.freeze(group.related),
    model: group.info.model,
    metadata: group.metadata,
  };
}

/** @internal Groups junction rows into one m2mChanged row per (relation, action, owner). */
export function resolveJunctions(runner: QueryRunner, collected: ReadonlyArray<Row | JunctionRow>): Row[] {
  if (!collected.some(isJunction)) return collected as Row[];
  const rows: Row[] = [];
  const groups = new Map<string, JunctionGroup>();
  for (const row of collected) {
    if (!isJunction(row)) {
      rows.push(row);
      continue;
    }
    const info = junctionInfo(dataSourceOf(runner), row.metadata);
    if (!info || !row.key) continue;
    const ids = junctionIds(info, row.key);
    const groupKey = `${info.relation}\u0000${row.action}\u0000${JSON.stringify(ids.owner)}`;
    let group = groups.get(groupKey);
    if (!group) {
      group = { info, action: row.action, owner: ids.owner, related: [], metadata: row.metadata };
      groups.set(groupKey, group);
      rows.push({ signal: row.signal, sender: info.owner, build: m2mFields, source: group });
    }
    group.related.push(ids.related);
  }
  return rows;
}

function isJunction(row: Row | JunctionRow): row is JunctionRow {
  return (row as JunctionRow).junction === true;
}
