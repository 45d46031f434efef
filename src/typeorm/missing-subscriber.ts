// DEBUG=typeorm-signals: the line for the commonest silent mistake, receivers connected while
// the DataSource that writes has no SignalsSubscriber. TypeORM then never calls us, so the line
// comes from the query-builder patches every write ends in (statements.ts), which are installed
// at load when DEBUG enables the trace, not only when a subscriber is constructed.

import type { DataSource } from 'typeorm';
import { describeFunction } from '../signals/errors';
import { trace } from '../signals/trace';
import type { Sender } from '../signals/types';
import type { Family, ModelSignal, Timing } from './model-signal';
import { describeDataSource } from './durable/binding';
import { hasSignalsSubscriber } from './subscriber-brand';

/** (signal, entity) pairs already reported: one line each per process. */
const reported = new Set<string>();

/**
 * With the trace on: says, once per signal and entity, that a write of `sender` on `dataSource`
 * sends none of `signals` although they have receivers for it, because the DataSource lists no
 * SignalsSubscriber.
 */
export function traceMissingSubscriber(dataSource: DataSource, sender: Sender, signals: ReadonlyArray<ModelSignal<Family, Timing>>): void {
  if (hasSignalsSubscriber(dataSource)) return;
  for (const signal of signals) {
    if (!signal.hasListeners(sender)) continue;
    const key = `${signal.name}\0${describeFunction(sender)}`;
    if (reported.has(key)) continue;
    reported.add(key);
    const names = signal.receivers(sender).map((r) => describeFunction(r.receiver)).join(', ');
    trace.note(
      `${signal.name} sender=${describeFunction(sender)} not sent: ${describeDataSource(dataSource)} ` +
        `has no SignalsSubscriber, so its writes send no model signal; add SignalsSubscriber to its subscribers ` +
        `(or check that the CLI's or test's DataSource is the one the app configures). Receivers that do not run: ${names}`,
    );
  }
}
