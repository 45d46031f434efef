// What SignalsModule does when the application boots and shuts down: install the signals on the
// configured DataSources, find the @OnSignal methods of every singleton provider and controller,
// connect them with `this` bound, and undo all of it at shutdown, so that an application created
// twice in one process (tests, hot reload) never runs a receiver twice.
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { SignalsError } from '../signals/errors';
import { installSignals } from '../typeorm/subscriber';
import { hasSignalsSubscriber } from '../typeorm/subscriber-brand';
import { startSignalsWorker, type SignalsWorker } from '../typeorm/durable/worker';
import { onSignalEntries, type OnSignalEntry } from './on-signal';
import { SIGNALS_MODULE_OPTIONS, checkDataSourceRef, isDataSource, type SignalsModuleOptions } from './options';

/** A DataSource the module installed the signals on, with how the options named it. */
interface Installed {
  readonly dataSource: DataSource;
  readonly label: string;
}

/** One `@OnSignal` of one provider instance, ready to connect. */
interface Plan {
  readonly where: string;
  readonly entry: OnSignalEntry;
  readonly receiver: Function;
}

/** The wrapper fields of @nestjs/core's InstanceWrapper that discovery reads (Nest 10 and 11). */
interface ProviderWrapper {
  readonly name: unknown;
  readonly instance: unknown;
  readonly metatype: unknown;
  readonly inject?: unknown;
  readonly isAlias?: boolean;
  readonly isTransient?: boolean;
  isDependencyTreeStatic(): boolean;
}

/** @internal The provider behind SignalsModule: boot and shutdown. */
@Injectable()
export class SignalsExplorer implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private teardown: Array<() => unknown> = [];
  private worker: SignalsWorker | undefined;
  private durableDataSource: Installed | undefined;

  constructor(
    @Inject(SIGNALS_MODULE_OPTIONS) private readonly options: SignalsModuleOptions,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
  ) {}

  /**
   * SignalsModule is global, and Nest runs the init hooks of global modules first: receivers are
   * connected before any other provider's onModuleInit can write.
   */
  onModuleInit(): void {
    try {
      const installed = this.install();
      this.connect(installed);
    } catch (error) {
      this.undo();
      throw error;
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    const worker = this.options.durable?.worker;
    if (worker === undefined || this.durableDataSource === undefined) return;
    this.worker = await startSignalsWorker(this.durableDataSource.dataSource, { ...worker, boss: this.options.durable!.boss });
  }

  /** Global modules are destroyed last: the other providers' onModuleDestroy still had their receivers. */
  async onModuleDestroy(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    try {
      await worker?.stop();
    } finally {
      this.undo();
    }
  }

  private undo(): void {
    for (const step of this.teardown.splice(0).reverse()) step();
  }

  private install(): Installed[] {
    const refs = this.options.dataSources ?? ['default'];
    const installed: Installed[] = [];
    for (const ref of refs) {
      const found = this.resolve(ref, 'dataSources');
      if (!installed.some((i) => i.dataSource === found.dataSource)) installed.push(found);
    }
    const durable = this.options.durable;
    if (durable !== undefined) {
      const target = durable.dataSource === undefined ? installed[0] : this.resolve(durable.dataSource, 'durable.dataSource');
      if (!installed.some((i) => i.dataSource === target.dataSource)) {
        throw new TypeError(`SignalsModule: "durable.dataSource" (${target.label}) is not one of "dataSources" (${installed.map((i) => i.label).join(', ')})`);
      }
      this.durableDataSource = target;
    }
    for (const { dataSource, label } of installed) {
      if (!dataSource.isInitialized) {
        throw new SignalsError(
          `SignalsModule: the DataSource ${label} is not initialized when the application boots ` +
            '(@nestjs/typeorm initializes it unless manualInitialization is set)',
        );
      }
      const options = durable !== undefined && dataSource === this.durableDataSource?.dataSource ? { durable: durable.boss } : {};
      this.teardown.push(installSignals(dataSource, options));
    }
    return installed;
  }

  /** A connection name through @nestjs/typeorm's token, or a DataSource as it is. */
  private resolve(ref: string | DataSource, option: string): Installed {
    checkDataSourceRef(ref, `"${option}"`);
    if (typeof ref !== 'string') return { dataSource: ref, label: describeDataSource(ref) };
    let found: unknown;
    try {
      found = this.moduleRef.get(getDataSourceToken(ref), { strict: false });
    } catch {
      found = undefined;
    }
    if (!isDataSource(found)) {
      throw new SignalsError(
        `SignalsModule: "${option}" names the connection ${JSON.stringify(ref)}, but the application has no such DataSource ` +
          (ref === 'default'
            ? '(TypeOrmModule.forRoot() without a name registers "default"; import TypeOrmModule.forRoot/forRootAsync, or pass dataSources)'
            : `(TypeOrmModule.forRoot({ name: ${JSON.stringify(ref)}, ... }) registers it)`),
      );
    }
    return { dataSource: found, label: JSON.stringify(ref) };
  }

  private connect(installed: readonly Installed[]): void {
    for (const plan of this.discover()) {
      const { signal, options, connectedAt } = plan.entry;
      const resolved = options === undefined ? undefined : { ...options };
      if (resolved !== undefined && 'dataSource' in resolved) {
        const ref = resolved.dataSource;
        if (ref === undefined) {
          throw new TypeError(
            `${plan.where}: option "dataSource" is undefined. Leave it out for every DataSource; a variable that is ` +
              'undefined when this code runs is usually a circular import',
          );
        }
        const scope = this.resolveScope(plan.where, ref, installed);
        resolved.dataSource = scope;
      }
      const normalized = reword(plan.where, () => signal.normalizeConnectOptions(resolved, plan.receiver));
      const existing = reword(plan.where, () => signal.existingConnection(plan.receiver, normalized, 'connect'));
      if (existing !== undefined) {
        // A dispatchUid names one connection per process: taking over another's would let its
        // owner's shutdown disconnect ours, and the other way round.
        throw new SignalsError(
          `${plan.where}: dispatchUid ${JSON.stringify(normalized.dispatchUid)} is already connected to ${signal.name}` +
            ' (by another @OnSignal, a connect() call, or an application in this process that is still running); ' +
            'a dispatchUid names one receiver in the process',
        );
      }
      this.teardown.push(signal.addConnection(plan.receiver, normalized, '@OnSignal', connectedAt));
    }
  }

  /** A receiver's `dataSource` option: a connection name or DataSource the signals are installed on. */
  private resolveScope(where: string, ref: unknown, installed: readonly Installed[]): DataSource {
    if (typeof ref !== 'string' && !isDataSource(ref)) {
      throw new TypeError(`${where}: option "dataSource" must be a @nestjs/typeorm connection name or a TypeORM DataSource, got ${ref === null ? 'null' : typeof ref}`);
    }
    let found: Installed;
    try {
      found = this.resolve(ref, 'dataSource');
    } catch (error) {
      throw new SignalsError(`${where}: ${(error as Error).message.replace(/^SignalsModule: /, '')}`);
    }
    // A scope on a DataSource without the subscriber would silently never run.
    if (!installed.some((i) => i.dataSource === found.dataSource) && !hasSignalsSubscriber(found.dataSource)) {
      throw new SignalsError(
        `${where}: option "dataSource" is ${found.label}, which has no signals: add it to SignalsModule's "dataSources" ` +
          `(now ${installed.map((i) => i.label).join(', ')})`,
      );
    }
    return found.dataSource;
  }

  /** Every `@OnSignal` of every provider and controller, bound to its instance. */
  private discover(): Plan[] {
    const plans: Plan[] = [];
    const seen = new Set<object>();
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()] as unknown as ProviderWrapper[];
    for (const wrapper of wrappers) {
      if (wrapper.isAlias) continue; // useExisting: the same instance as another wrapper
      if (wrapper.instance instanceof SignalsExplorer && wrapper.instance !== this) {
        throw new SignalsError(
          'SignalsModule is imported twice in this application (forRoot/forRootAsync with different options in two modules): ' +
            'each would connect every @OnSignal receiver; import it once, in the root module, with every DataSource in "dataSources"',
        );
      }
      const isStatic = wrapper.isDependencyTreeStatic() && !wrapper.isTransient;
      const instance = wrapper.instance;
      const prototype = isStatic
        ? typeof instance === 'object' && instance !== null
          ? Object.getPrototypeOf(instance)
          : undefined
        : typeof wrapper.metatype === 'function' && !wrapper.inject
          ? (wrapper.metatype as { prototype?: object }).prototype
          : undefined;
      if (prototype === undefined || prototype === null) continue;
      // One object can stand behind two wrappers (the same useValue in two modules): connect it once.
      if (isStatic) {
        if (seen.has(instance as object)) continue;
        seen.add(instance as object);
      }
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, unknown>)[name];
        if (typeof method !== 'function') continue;
        const entries = onSignalEntries(method);
        if (entries.length === 0) continue;
        const className = (prototype as { constructor?: { name?: string } }).constructor?.name || String(wrapper.name);
        const where = `@OnSignal(${entries[0].signal.name}) on ${className}.${name}`;
        if (!isStatic) {
          throw new SignalsError(
            `${where}: ${className} is ${wrapper.isTransient ? 'transient (Scope.TRANSIENT)' : 'request-scoped (Scope.REQUEST, or it depends on a request-scoped provider)'}, ` +
              'but receivers run for writes, outside any request, on one instance connected at boot; make it a singleton (the default scope) ' +
              'and pass what the receiver needs through the payload or the database',
          );
        }
        const receiver = method.bind(instance);
        Object.defineProperty(receiver, 'name', { value: `${className}.${name}` });
        for (const entry of entries) plans.push({ where: `@OnSignal(${entry.signal.name}) on ${className}.${name}`, entry, receiver });
      }
    }
    return plans;
  }
}

/** The Signal's own messages, prefixed with the decorator and the method they are about. */
function reword<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const Kind = error instanceof TypeError ? TypeError : SignalsError;
    throw new Kind(`${where}: ${error.message}`, { cause: error });
  }
}

function describeDataSource(dataSource: DataSource): string {
  const name = (dataSource as { name?: unknown }).name;
  return typeof name === 'string' && name !== 'default' ? JSON.stringify(name) : '(given as an object)';
}
