// typeorm-signals/nestjs: the NestJS module and the @OnSignal decorator. Requires @nestjs/common,
// @nestjs/core and @nestjs/typeorm (optional peer dependencies: the main entry never loads them).
export { SignalsModule } from './module';
export { OnSignal } from './on-signal';
export type { OnSignalScope, OnSignalOptions, DurableOnSignalOptions, PlainOnSignalOptions, ReceiverDecorator } from './on-signal';
export type { SignalsModuleOptions, SignalsModuleAsyncOptions, SignalsModuleDurableOptions, SignalsModuleWorkerOptions } from './options';
