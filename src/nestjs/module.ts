import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SignalsExplorer } from './explorer';
import { SIGNALS_MODULE_OPTIONS, checkModuleOptions, type SignalsModuleAsyncOptions, type SignalsModuleOptions } from './options';

/**
 * typeorm-signals for a NestJS application: installs the signals on the DataSources that
 * @nestjs/typeorm creates (the default one unless `dataSources` names others) and connects every
 * `@OnSignal` method of the application's singleton providers when the application boots, with
 * `this` bound to the provider; closing the application disconnects them and uninstalls the
 * signals. Import it once, in the root module (it is global).
 *
 * @example
 * @Module({
 *   imports: [
 *     TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, entities: [User, UserProfile] }),
 *     SignalsModule.forRoot(),
 *     UsersModule,
 *   ],
 * })
 * export class AppModule {}
 */
@Module({})
export class SignalsModule {
  /**
   * The module with fixed options.
   *
   * @example
   * SignalsModule.forRoot({ dataSources: ['default', 'reports'] });
   */
  static forRoot(options: SignalsModuleOptions = {}): DynamicModule {
    const checked = checkModuleOptions(options);
    return {
      module: SignalsModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [{ provide: SIGNALS_MODULE_OPTIONS, useValue: checked }, SignalsExplorer],
    };
  }

  /**
   * The module with options from a factory that may inject providers (a config service, the
   * application's PgBoss), as @nestjs/typeorm's forRootAsync.
   *
   * @example
   * SignalsModule.forRootAsync({
   *   inject: [PgBoss],
   *   useFactory: (boss: PgBoss) => ({ durable: { boss, worker: { concurrency: 2 } } }),
   * });
   */
  static forRootAsync(options: SignalsModuleAsyncOptions): DynamicModule {
    if (typeof options !== 'object' || options === null || typeof options.useFactory !== 'function') {
      throw new TypeError('SignalsModule.forRootAsync(): expected { useFactory, inject?, imports? } with a useFactory function');
    }
    for (const key of Object.keys(options)) {
      if (!['imports', 'inject', 'useFactory'].includes(key)) {
        throw new TypeError(`SignalsModule.forRootAsync(): unknown option "${key}" (known: imports, inject, useFactory)`);
      }
    }
    const { useFactory } = options;
    return {
      module: SignalsModule,
      global: true,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      providers: [
        { provide: SIGNALS_MODULE_OPTIONS, inject: options.inject ?? [], useFactory: async (...args: unknown[]) => checkModuleOptions(await useFactory(...args)) },
        SignalsExplorer,
      ],
    };
  }
}
