
export { Signal } from './signals/signal';
export type { Receiver, ReceiverArgs, ConnectOptions, DisconnectOptions, ReceiverInfo, SignalOptions } from './signals/signal';
export { receiver } from './signals/receiver';
export { SignalsError } from './signals/errors';
export { configureSignals } from './signals/config';
export type { FailureReport, SignalsLogger } from './signals/config';
export type { Sender, Disconnect, SendResults, ClassOf } from './signals/types';
