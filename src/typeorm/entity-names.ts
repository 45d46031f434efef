// Entity names: a receiver connected with `sender: 'User'` runs for writes of the class TypeORM
// knows as 'User'. The names are learned from each DataSource's metadata the first time the
// subscriber sees a write through it (or at installSignals()); model signals ask sendersMatch()
// and drop their cached lookups when a name is learned.

import type { DataSource, EntityMetadata } from 'typeorm';
import type { Sender } from '../signals/types';

const namesByClass = new Map<Function, Set<string>>();
const learned = new WeakSet<DataSource>();
const onChange: Array<() => void> = [];

/** @internal Calls `fn` whenever a class gains a name (model signals drop their lookups). */
export function onEntityNamesChanged(fn: () => void): void {
  onChange.push(fn);
}

/** @internal Records the entity names of every entity of this DataSource; once per DataSource. */
export function learnEntityNames(dataSource: DataSource): void {
  if (learned.has(dataSource)) return;
  learned.add(dataSource);
  let changed = false;
  for (const metadata of dataSource.entityMetadatas) {
    const target = metadata.target as Sender;
    // A class-less EntitySchema's target is its name already.
    if (typeof target === 'string') continue;
    let names = namesByClass.get(target);
    if (names?.has(metadata.name)) continue;
    if (!names) namesByClass.set(target, (names = new Set()));
    names.add(metadata.name);
    changed = true;
  }
  if (changed) for (const fn of onChange) fn();
}

/**
 * @internal Whether a connection made with `connected` runs for `sender`: the same sender, or a
 * name string and the class TypeORM knows by that name (its class name before any DataSource
 * said otherwise).
 */
export function sendersMatch(connected: Sender, sender: Sender): boolean {
  if (connected === sender) return true;
  if (typeof connected !== 'string' || typeof sender !== 'function') return false;
  const names = namesByClass.get(sender);
  return names ? names.has(connected) : sender.name === connected;
}

/** @internal The sender of an entity's signals: its class, or its name for a class-less EntitySchema. */
export function senderOf(metadata: EntityMetadata): Sender {
  return metadata.target as Sender;
}
