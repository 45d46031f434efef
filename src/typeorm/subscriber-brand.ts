// The mark of our subscriber in a DataSource's `subscribers`, readable across copies of this
// package (the CJS and ESM builds loaded side by side share Symbol.for's registry), and without
// importing subscriber.ts: the query-builder patches, which subscriber.ts installs, ask it too.

/** @internal The brand SignalsSubscriber instances carry. */
export const SUBSCRIBER_BRAND = Symbol.for('typeorm-signals.subscriber');

/** @internal Whether an object in dataSource.subscribers is a typeorm-signals subscriber. */
export function isSignalsSubscriber(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { [SUBSCRIBER_BRAND]?: boolean })[SUBSCRIBER_BRAND] === true;
}

/** @internal Whether a DataSource lists a typeorm-signals subscriber. */
export function hasSignalsSubscriber(dataSource: { subscribers: readonly unknown[] }): boolean {
  return dataSource.subscribers.some(isSignalsSubscriber);
}
