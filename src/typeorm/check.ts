import type { DataSource } from 'typeorm';
import { SignalsError, describeFunction } from '../signals/errors';
import { bindingOf, describeDataSource, servesDurable } from './durable/binding';
import type { Sender } from '../signals/types';
import { allModelSignals, type Family, type ModelReceiverInfo, type ModelSignal, type Timing } from './model-signal';
import { duplicateCopyMessage } from '../signals/copies';
import { SignalsSubscriber } from './subscriber';
import { hasSignalsSubscriber, isSignalsSubscriber } from './subscriber-brand';

/**
 * One model signal and its connections, as describeSignals() lists them.
 *
 * @example
 * const [{ signal, receivers }] = describeSignals();
 * console.log(signal.name, receivers.map((r) => r.connectedAt));
 */
export interface SignalDescription {
  /** The model signal. */
  signal: ModelSignal<Family, Timing>;
  /** As `signal.receivers()`: receiver, sender, phase, batch, dispatchUid, weak, connectedAt, dataSource. */
  receivers: ModelReceiverInfo[];
}

/**
 * Every model signal (preSave, postSave, ..., m2mChanged) with its receivers, in a fixed order;
 * signals without receivers are listed with an empty list. For start-up logs and debugging.
 *
 * @example
 * for (const { signal, receivers } of describeSignals()) {
 *   for (const r of receivers) console.log(`${signal.name} -> ${r.receiver.name} (${r.phase}) at ${r.connectedAt}`);
 * }
 */
export function describeSignals(): SignalDescription[] {
  return allModelSignals.map((signal) => ({ signal, receivers: signal.receivers() as ModelReceiverInfo[] }));
}

/**
 * What checkSignals() can find: a receiver whose sender is no entity of the DataSource, a
 * receiver limited to a DataSource that cannot send (not initialized, or without the
 * subscriber), the subscriber missing, installed more than once, a second copy of
 * typeorm-signals in the process, or a durable receiver the DataSource cannot serve.
 *
 * @example
 * const missing = checkSignals(dataSource).some((p) => p.code === 'not-installed');
 */
export type SignalProblemCode =
  | 'unknown-sender'
  | 'unknown-data-source'
  | 'not-installed'
  | 'installed-twice'
  | 'duplicate-copy'
  | 'durable-unsupported'
  | 'durable-unbound';

/**
 * Something checkSignals() found that makes receivers not run (or not as expected).
 *
 * @example
 * for (const problem of checkSignals(dataSource)) logger.warn(`${problem.code}: ${problem.message}`);
 */
export interface SignalProblem {
  /** Which kind of problem. */
  code: SignalProblemCode;
  /** What is wrong and how to fix it; names signals, receivers, senders and call sites, never values. */
  message: string;
  /** 'unknown-sender', 'unknown-data-source', 'durable-*': the signal of the receiver. */
  signal?: ModelSignal<Family, Timing>;
  /** 'unknown-sender', 'unknown-data-source': the receiver that will never run; 'durable-*': the receiver whose writes fail. */
  receiver?: Function;
  /** 'unknown-sender': the sender it was connected with. */
  sender?: Sender;
}

/**
 * Checks the model-signal setup against an initialized DataSource and returns what is wrong
 * (an empty list when nothing is):
 * - 'not-installed': the DataSource has no SignalsSubscriber, so no model signal is sent;
 * - 'installed-twice': it has more than one (only the first dispatches; the others are dead weight,
 *   often a second copy of the package);
 * - 'unknown-sender': a receiver's sender is neither an entity class nor an entity name of this
 *   DataSource, so it never runs (a typo in a name, or a class that is not the entity class);
 * - 'unknown-data-source': a receiver is limited (option `dataSource`) to another DataSource that
 *   is not initialized (destroyed: often the receiver of an application that was closed without
 *   disconnecting it) or has no SignalsSubscriber, so it never runs.
 * - 'duplicate-copy': another copy of typeorm-signals (another folder) is loaded in the process,
 *   with its own signals and subscriber; the message names both folders, and says so when this
 *   DataSource's SignalsSubscriber is the other copy's (then no receiver of this copy runs for it).
 * - 'durable-unsupported': a phase 'durable' receiver listens to writes of this DataSource, which
 *   is not PostgreSQL (MariaDB, MySQL, SQLite), so there is no pg-boss queue its jobs could commit
 *   with: every such write fails;
 * - 'durable-unbound': the same on PostgreSQL without a queue bound
 *   (installSignals(dataSource, { durable: boss })): every such write fails and rolls back.
 *
 * Receivers connected for every sender are always fine. The senders of receivers limited to
 * another DataSource are checked when that DataSource is; an application with several
 * DataSources checks each.
 *
 * @example
 * await dataSource.initialize();
 * for (const problem of checkSignals(dataSource)) logger.warn(problem.message);
 */
export function checkSignals(dataSource: DataSource): SignalProblem[] {
  if (dataSource === null || typeof dataSource !== 'object' || !Array.isArray((dataSource as { subscribers?: unknown }).subscribers)) {
    throw new TypeError('checkSignals(): expected a TypeORM DataSource');
  }
  if (!dataSource.isInitialized) {
    throw new SignalsError('checkSignals(): the DataSource is not initialized; call checkSignals() after dataSource.initialize()');
  }
  const problems: SignalProblem[] = [];
  const duplicate = duplicateCopyMessage();
  if (duplicate !== undefined) {
    // Only the first SignalsSubscriber dispatches (see SignalsSubscriber.isActiveFor).
    const active = dataSource.subscribers.find(isSignalsSubscriber);
    const foreign = active !== undefined && !(active instanceof SignalsSubscriber);
    problems.push({
      code: 'duplicate-copy',
      message:
        `checkSignals(): ${duplicate}` +
        (foreign
          ? '. This DataSource\'s SignalsSubscriber comes from another copy than the checkSignals() you called, so the ' +
            `receivers connected through this copy (${countReceivers()}) never run for it`
          : ''),
    });
  }
  const installed = dataSource.subscribers.filter(isSignalsSubscriber).length;
  if (installed === 0) {
    problems.push({
      code: 'not-installed',
      message:
        'checkSignals(): the DataSource has no SignalsSubscriber, so no model signal (postSave, ...) is sent for it; ' +
        'list SignalsSubscriber in its subscribers option or call installSignals(dataSource) after initialize()',
    });
  } else if (installed > 1) {
    problems.push({
      code: 'installed-twice',
      message:
        `checkSignals(): the DataSource has ${installed} SignalsSubscribers; only the first sends signals. ` +
        'List SignalsSubscriber once (two copies of typeorm-signals in node_modules also cause this)',
    });
  }

  const classes = new Map<Function, string>();
  const names = new Map<string, string>();
  for (const metadata of dataSource.entityMetadatas) {
    if (metadata.isJunction) continue;
    if (typeof metadata.target === 'function') classes.set(metadata.target, metadata.name);
    else names.set(metadata.target, metadata.name);
    names.set(metadata.name, metadata.name);
  }
  for (const signal of allModelSignals) {
    for (const info of signal.receivers()) {
      const scope = info.dataSource;
      if (scope !== undefined && scope !== dataSource) {
        const why = !scope.isInitialized ? 'is not initialized (destroyed, or never initialized)' : hasSignalsSubscriber(scope) ? undefined : 'has no SignalsSubscriber';
        if (why !== undefined) {
          const where = info.connectedAt ? ` (connected at ${info.connectedAt})` : '';
          problems.push({
            code: 'unknown-data-source',
            message:
              `checkSignals(): receiver ${describeFunction(info.receiver)} of ${signal.name}${where} is limited to a DataSource that ${why}, ` +
              'so it never runs; disconnect it when its DataSource is closed, or connect it to a DataSource in use',
            signal,
            receiver: info.receiver,
            sender: info.sender,
          });
        }
        continue;
      }
      const sender = info.sender;
      const known = sender === undefined || (typeof sender === 'function' ? classes.has(sender) : names.has(sender));
      if (known && info.phase === 'durable') {
        const problem = durableProblem(dataSource, signal, info);
        if (problem) problems.push(problem);
      }
      if (known) continue;
      problems.push({
        code: 'unknown-sender',
        message: unknownSenderMessage(signal.name, info, sender, classes, names),
        signal,
        receiver: info.receiver,
        sender,
      });
    }
  }
  return problems;
}

/** A durable receiver of this DataSource's writes that it cannot enqueue for, or undefined. */
function durableProblem(dataSource: DataSource, signal: ModelSignal<Family, Timing>, info: ModelReceiverInfo): SignalProblem | undefined {
  const unsupported = !servesDurable(dataSource);
  if (!unsupported && bindingOf(dataSource)) return undefined;
  const where = info.connectedAt ? ` (connected at ${info.connectedAt})` : '';
  const head = `checkSignals(): durable receiver "${info.dispatchUid}" (${describeFunction(info.receiver)}) of ${signal.name}${where}`;
  return {
    code: unsupported ? 'durable-unsupported' : 'durable-unbound',
    message: unsupported
      ? `${head} listens to writes of ${describeDataSource(dataSource)}, which is not PostgreSQL, so its jobs have no queue to commit with ` +
        "and those writes fail; use phase 'commit' for it, or limit it (option dataSource) to a PostgreSQL DataSource"
      : `${head} listens to writes of ${describeDataSource(dataSource)}, which has no durable queue bound, so those writes fail and roll back; ` +
        'call installSignals(dataSource, { durable: boss }) with your started PgBoss instance at start-up',
    signal,
    receiver: info.receiver,
    ...(info.sender === undefined ? {} : { sender: info.sender }),
  };
}

function countReceivers(): number {
  return allModelSignals.reduce((n, signal) => n + signal.receivers().length, 0);
}

function unknownSenderMessage(
  signalName: string,
  info: ModelReceiverInfo,
  sender: Sender,
  classes: ReadonlyMap<Function, string>,
  names: ReadonlyMap<string, string>,
): string {
  const where = info.connectedAt ? ` (connected at ${info.connectedAt})` : '';
  const head = `checkSignals(): receiver ${describeFunction(info.receiver)} of ${signalName}${where} has sender`;
  if (typeof sender === 'function') {
    const sameName = [...classes.values()].includes(sender.name) || names.has(sender.name);
    return (
      `${head} class ${describeFunction(sender)}, which is not an entity class of this DataSource, so it never runs` +
      (sameName
        ? `; the entity called ${sender.name} is another class (a second copy of the module, or a class with the same name?)`
        : '; connect it with the entity class itself')
    );
  }
  const suggestion = closest(sender, [...names.keys()]);
  return (
    `${head} ${JSON.stringify(sender)}, which is not an entity name of this DataSource, so it never runs` +
    (suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : '')
  );
}

/** The entity name a typo most likely meant: same letters ignoring case, or at most 2 edits away. */
function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = candidate.toLowerCase() === name.toLowerCase() ? 0 : distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
