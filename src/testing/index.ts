/**
 * typeorm-signals/testing: helpers for testing receivers against a real database, without mocks.
 * The matchers live in typeorm-signals/jest; withoutSignals() is in the package root, because
 * seeds and imports use it outside tests too.
 */
export { captureSignals } from './capture';
export type { Captured, SignalRecord, ReceiverOutcome } from './capture';
export { flushOnCommit } from './flush';
export { drainDurable } from './drain';
export type { DrainResult } from './drain';
