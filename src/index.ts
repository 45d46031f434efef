
export { Signal } from './signals/signal';
export type { Receiver, ReceiverArgs, ConnectOptions, DisconnectOptions, ReceiverInfo, SignalOptions } from './signals/signal';
export { receiver } from './typeorm/receiver';
export { SignalsError } from './signals/errors';
export { configureSignals } from './signals/config';
export type { FailureReport, SignalsLogger, SignalsSettings } from './signals/config';
export type { Sender, Disconnect, SendResults, ClassOf, PayloadObject } from './signals/types';
export type { ReceiverOf, OptionsOf, ArgsOf } from './signals/receiver';

export {
  preSave,
  postSave,
  preDelete,
  postDelete,
  preSoftDelete,
  postSoftDelete,
  preRestore,
  postRestore,
  postLoad,
  m2mChanged,
} from './typeorm/model-signal';
// A type only: the ten model signals are the only ones the bridge sends, so users cannot make an eleventh.
export type {
  ModelSignal,
  Family,
  Timing,
  PhaseFor,
  ModelConnectOptions,
  ModelDisconnectOptions,
  ModelReceiverInfo,
  ModelReceiver,
  ModelBatchReceiver,
  PayloadFamilies,
} from './typeorm/model-signal';
export type { Phase, LivePhase, WriteContext } from './typeorm/phases';
export type {
  WriteSource,
  SaveFields,
  EntityId,
  Changes,
  SavePayload,
  DeletePayload,
  LoadPayload,
  M2MPayload,
  BatchPayload,
} from './typeorm/payloads';
export { SignalsSubscriber, installSignals } from './typeorm/subscriber';
export type { InstallSignalsOptions } from './typeorm/subscriber';
export { startSignalsWorker } from './typeorm/durable/worker';
export type { SignalsWorker, SignalsWorkerOptions } from './typeorm/durable/worker';
export { redriveDurable } from './typeorm/durable/redrive';
export type { RedriveDurableOptions, RedriveDurableResult } from './typeorm/durable/redrive';
export { durableSchemaSql, durableMigrationSource } from './typeorm/durable/schema';
export type { DurableSchemaOptions, DurableSchemaSql, PgBossPlans } from './typeorm/durable/schema';
export type { DurableConnectOptions, RetryPolicy } from './typeorm/durable/options';
export type { DurableQueue, DurableDb, DurableDbResult, FetchedJob } from './typeorm/durable/binding';
export type {
  DurableContext,
  DurableSaveItem,
  DurableDeleteItem,
  DurableM2MItem,
  DurableItems,
  DurableReceiver,
  DurableBatchReceiver,
} from './typeorm/durable/types';
export { onCommit, onRollback } from './typeorm/transactions';

export { withoutSignals } from './signals/mute';
export type { SignalSelection } from './signals/mute';
export { describeSignals, checkSignals } from './typeorm/check';
export type { SignalDescription, SignalProblem, SignalProblemCode } from './typeorm/check';
export { mapSignals } from './typeorm/map';
export type { SignalMap, SignalMapStep, SignalMapWhen, SignalMapWrite, MapSignalsOptions } from './typeorm/map';
