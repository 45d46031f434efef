import * as path from 'node:path';
import type { DataSource, EntityMetadata } from 'typeorm';
import { SignalsError, describeFunction } from '../signals/errors';
import type { Sender } from '../signals/types';
import {
  m2mChanged,
  postDelete,
  postLoad,
  postRestore,
  postSave,
  postSoftDelete,
  preDelete,
  preRestore,
  preSave,
  preSoftDelete,
  type ModelReceiverInfo,
} from './model-signal';
import { learnEntityNames } from './entity-names';
import { PHASES, type Phase } from './phases';
import { hasSignalsSubscriber } from './subscriber-brand';

/**
 * The signal map: for every entity and kind of write, the receivers that run, in the order they
 * run. Signals hide control flow (Django's docs warn about it); this is the one picture of it.
 */

/**
 * A kind of write, as the map groups them: the TypeORM calls that send the same signals.
 *
 * @example
 * const saves = (await mapSignals(dataSource)).steps.filter((s) => s.write === 'save');
 */
export type SignalMapWrite = 'save' | 'remove' | 'softRemove' | 'recover' | 'm2m' | 'load';

/**
 * When a step runs, relative to the write.
 *
 * @example
 * const afterCommit = (await mapSignals(dataSource)).steps.filter((s) => s.when === 'after commit');
 */
export type SignalMapWhen = 'before the write' | 'in the transaction' | 'after commit' | 'after rollback' | 'in a worker (durable)';

/**
 * One receiver call in the map.
 *
 * @example
 * for (const step of (await mapSignals(dataSource)).steps) console.log(step.entity, step.write, step.order, step.receiver);
 */
export interface SignalMapStep {
  /** The entity's name (its class name, or the name of a class-less EntitySchema). */
  readonly entity: string;
  /** The kind of write. */
  readonly write: SignalMapWrite;
  /** Its position among the steps of this entity and write, from 1. */
  readonly order: number;
  /** When it runs, relative to the write. */
  readonly when: SignalMapWhen;
  /** The signal's name. */
  readonly signal: string;
  /** The receiver's phase. */
  readonly phase: Phase;
  /** One call per write with all rows, instead of one per row. */
  readonly batch: boolean;
  /** The receiver's name. */
  readonly receiver: string;
  /** The sender it was connected with: the class name, a "name" string, or '(every sender)'. */
  readonly sender: string;
  /** "file:line" of the connect() call, relative to `cwd` when it is below it. */
  readonly connectedAt: string | undefined;
}

/**
 * What mapSignals() returns: the steps, and the same as a text table or a Mermaid flowchart.
 *
 * @example
 * import { writeFileSync } from 'node:fs';
 * const map = await mapSignals(dataSource);
 * console.log(map.text());
 * writeFileSync('signals.mmd', map.mermaid());
 */
export interface SignalMap {
  /** The entities of the DataSource, in its order (junction tables left out). */
  readonly entities: readonly string[];
  /** Every step of every entity and write, in the order they run. */
  readonly steps: readonly SignalMapStep[];
  /** Whether the DataSource has a SignalsSubscriber; without one, none of the steps runs. */
  readonly installed: boolean;
  /** The map as text: one table per entity and write. */
  text(): string;
  /** The map as a Mermaid flowchart (without the ```mermaid fence). */
  mermaid(): string;
}

/**
 * The options of mapSignals().
 *
 * @example
 * await mapSignals(dataSource, { cwd: '/srv/app' });
 */
export interface MapSignalsOptions {
  /** connectedAt paths below this folder are shown relative to it. Default: process.cwd(). */
  cwd?: string;
}

interface WriteKind {
  readonly write: SignalMapWrite;
  readonly label: string;
  readonly pre?: ModelSignalLike;
  readonly post: ModelSignalLike;
}

/** What the map needs of a model signal. */
interface ModelSignalLike {
  readonly name: string;
  receivers(sender?: Sender): ModelReceiverInfo[];
}

const WRITES: readonly WriteKind[] = [
  { write: 'save', label: 'save / insert / update / upsert', pre: preSave, post: postSave },
  { write: 'remove', label: 'remove / delete', pre: preDelete, post: postDelete },
  { write: 'softRemove', label: 'softRemove / softDelete', pre: preSoftDelete, post: postSoftDelete },
  { write: 'recover', label: 'recover / restore', pre: preRestore, post: postRestore },
  { write: 'm2m', label: 'many-to-many add / remove', post: m2mChanged },
  { write: 'load', label: 'load (find, ...)', post: postLoad },
];

const WHEN: Record<Phase, SignalMapWhen> = {
  transaction: 'in the transaction',
  commit: 'after commit',
  rollback: 'after rollback',
  durable: 'in a worker (durable)',
};

/**
 * Maps what runs for every entity of a DataSource and every kind of write (save, insert, update
 * and upsert; remove and delete; softRemove and softDelete; recover and restore; many-to-many
 * changes; loads): the receivers connected now, in the order the dispatcher runs them (the pre
 * signal's per-row then batch receivers before the write; then the post signal's, phase by
 * phase, per-row before batch, each in connection order), with where each was connected.
 * Receivers limited to another DataSource are left out. Writes a receiver makes in turn (a
 * profile inserted for a user) appear under their own entity.
 *
 * The DataSource need not be initialized: its entity metadata is then built without connecting
 * to the database (`npx typeorm-signals map -d ormconfig.ts` does that).
 *
 * @example
 * import { mapSignals } from 'typeorm-signals';
 * import './receivers'; // connect the app's receivers first
 * console.log((await mapSignals(dataSource)).text());
 */
export async function mapSignals(dataSource: DataSource, options: MapSignalsOptions = {}): Promise<SignalMap> {
  if (dataSource === null || typeof dataSource !== 'object' || !Array.isArray((dataSource as { entityMetadatas?: unknown }).entityMetadatas)) {
    throw new TypeError('mapSignals(): expected a TypeORM DataSource');
  }
  if (!dataSource.isInitialized && dataSource.entityMetadatas.length === 0) {
    const build = (dataSource as unknown as { buildMetadatas?: () => Promise<void> }).buildMetadatas;
    if (typeof build !== 'function') {
      throw new SignalsError('mapSignals(): the DataSource is not initialized and its metadata cannot be built; call it after dataSource.initialize()');
    }
    await build.call(dataSource);
  }
  const cwd = options.cwd ?? process.cwd();
  learnEntityNames(dataSource);
  const entities: string[] = [];
  const steps: SignalMapStep[] = [];
  // The writes an entity can have (see stepsOf).
  const possible = new Map<string, ReadonlySet<SignalMapWrite>>();
  for (const metadata of dataSource.entityMetadatas) {
    if (metadata.isJunction) continue;
    const sender = metadata.target as Sender;
    entities.push(metadata.name);
    const writes = new Set<SignalMapWrite>(['save', 'remove', 'load']);
    if (metadata.deleteDateColumn) writes.add('softRemove').add('recover');
    if (metadata.manyToManyRelations.some((r) => r.isOwning)) writes.add('m2m');
    possible.set(metadata.name, writes);
    for (const kind of WRITES) steps.push(...stepsOf(dataSource, metadata, sender, kind, cwd));
  }
  const installed = hasSignalsSubscriber(dataSource);
  return {
    entities,
    steps,
    installed,
    text: () => toText(entities, steps, installed, possible),
    mermaid: () => toMermaid(entities, steps),
  };
}

function stepsOf(dataSource: DataSource, metadata: EntityMetadata, sender: Sender, kind: WriteKind, cwd: string): SignalMapStep[] {
  // m2mChanged is sent for the owning side only; softRemove and recover need a @DeleteDateColumn.
  if (kind.write === 'm2m' && !metadata.manyToManyRelations.some((r) => r.isOwning)) return [];
  if ((kind.write === 'softRemove' || kind.write === 'recover') && !metadata.deleteDateColumn) return [];
  const mine = (signal: ModelSignalLike) =>
    signal.receivers(sender).filter((r) => r.dataSource === undefined || r.dataSource === dataSource);
  const steps: SignalMapStep[] = [];
  const add = (signal: ModelSignalLike, r: ModelReceiverInfo, when: SignalMapWhen) =>
    steps.push({
      entity: metadata.name,
      write: kind.write,
      order: steps.length + 1,
      when,
      signal: signal.name,
      phase: r.phase as Phase,
      batch: r.batch,
      receiver: describeFunction(r.receiver),
      sender: r.sender === undefined ? '(every sender)' : describeFunction(r.sender),
      connectedAt: relative(r.connectedAt, cwd),
    });
  // As the dispatcher runs a flush: per-row receivers first (row by row), then batch receivers.
  const ordered = (list: ModelReceiverInfo[]) => [...list.filter((r) => !r.batch), ...list.filter((r) => r.batch)];
  if (kind.pre) for (const r of ordered(mine(kind.pre))) add(kind.pre, r, 'before the write');
  const post = mine(kind.post);
  for (const phase of PHASES) {
    for (const r of ordered(post.filter((p) => p.phase === phase))) add(kind.post, r, WHEN[phase]);
  }
  return steps;
}

function relative(site: string | undefined, cwd: string): string | undefined {
  if (site === undefined) return undefined;
  const match = /^(.*):(\d+)$/.exec(site);
  if (!match || !path.isAbsolute(match[1])) return site;
  const rel = path.relative(cwd, match[1]);
  return rel.startsWith('..') || path.isAbsolute(rel) ? site : `${rel.split(path.sep).join('/')}:${match[2]}`;
}

function toText(entities: readonly string[], steps: readonly SignalMapStep[], installed: boolean, possible: ReadonlyMap<string, ReadonlySet<SignalMapWrite>>): string {
  const out: string[] = [];
  if (!installed) out.push('The DataSource has no SignalsSubscriber: none of these receivers runs for its writes.', '');
  for (const entity of entities) {
    out.push(entity);
    const quiet: string[] = [];
    for (const kind of WRITES) {
      const own = steps.filter((s) => s.entity === entity && s.write === kind.write);
      if (own.length === 0) {
        // Loads are not writes: listed only when something runs on them.
        if (kind.write !== 'load' && possible.get(entity)?.has(kind.write)) quiet.push(kind.label);
        continue;
      }
      out.push(`  ${kind.label}`);
      const rows = [
        ['#', 'when', 'signal', 'receiver', 'batch', 'sender', 'connected at'],
        ...own.map((s) => [String(s.order), s.when, s.signal, s.receiver, s.batch ? 'batch' : '', s.sender, s.connectedAt ?? '?']),
      ];
      const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
      for (const row of rows) out.push(`    ${row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()}`);
    }
    if (quiet.length) out.push(`  nothing runs on: ${quiet.join(', ')}`);
    out.push('');
  }
  return out.join('\n').trimEnd() + '\n';
}

function toMermaid(entities: readonly string[], steps: readonly SignalMapStep[]): string {
  const out = ['flowchart LR'];
  const quiet: string[] = [];
  entities.forEach((entity, e) => {
    const own = steps.filter((s) => s.entity === entity);
    if (own.length === 0) {
      quiet.push(entity);
      return;
    }
    out.push(`  subgraph e${e}["${escape(entity)}"]`);
    for (const kind of WRITES) {
      const list = own.filter((s) => s.write === kind.write);
      if (list.length === 0) continue;
      const start = `e${e}_${kind.write}`;
      out.push(`    ${start}(["${escape(kind.label)}"])`);
      let previous = start;
      let lastInTransaction = start;
      let when: SignalMapWhen | undefined;
      for (const s of list) {
        const node = `${start}_${s.order}`;
        const where = s.connectedAt ? `<br/><small>${escape(s.connectedAt)}</small>` : '';
        out.push(`    ${node}["${escape(s.signal)}: ${escape(s.receiver)}${s.batch ? ' (batch)' : ''}${where}"]`);
        // Rollback receivers run instead of commit ones: they branch off the transaction.
        const from = s.when === 'after rollback' ? lastInTransaction : previous;
        const arrow = s.when === 'after rollback' ? '-.->' : '-->';
        out.push(`    ${from} ${arrow}${s.when !== when ? `|${s.when}|` : ''} ${node}`);
        when = s.when;
        if (s.when !== 'after rollback') previous = node;
        if (s.when === 'before the write' || s.when === 'in the transaction') lastInTransaction = node;
      }
    }
    out.push('  end');
  });
  if (quiet.length) out.push(`  %% no receivers: ${quiet.join(', ')}`);
  return out.join('\n') + '\n';
}

/** Mermaid labels are quoted: quotes and the characters Mermaid reads as markup become entities. */
function escape(text: string): string {
  return text.replace(/[&"<>#]/g, (c) => `#${c.charCodeAt(0)};`);
}
