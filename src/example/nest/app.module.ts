/**
 * typeorm-signals in a NestJS application (the README's "Using it with NestJS"):
 *
 * - SignalsInstaller installs the signals subscriber on the DataSource that @nestjs/typeorm
 *   creates (it is initialized before anything can inject it), and uninstalls it on shutdown;
 * - UserSignals is an ordinary provider with dependencies (WelcomeMailer): it connects its
 *   receivers in onModuleInit and disconnects them in onModuleDestroy, so a module that is
 *   created twice (tests, hot reload) never runs a receiver twice.
 */
import { Injectable, Module, type DynamicModule, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { installSignals, postSave, type SavePayload } from '../../index';
import { User } from '../entities';

/** Installs typeorm-signals on the application's DataSource. */
@Injectable()
export class SignalsInstaller implements OnModuleInit, OnModuleDestroy {
  private uninstall?: () => void;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.uninstall = installSignals(this.dataSource);
  }

  onModuleDestroy(): void {
    this.uninstall?.();
  }
}

/** Stands in for a real mail service: a provider the receiver gets by injection. */
@Injectable()
export class WelcomeMailer {
  readonly sent: string[] = [];

  async sendWelcome(email: string): Promise<void> {
    this.sent.push(email);
  }
}

/** The users module's receivers, with their dependencies injected. */
@Injectable()
export class UserSignals implements OnModuleInit, OnModuleDestroy {
  private readonly disconnects: Array<() => boolean> = [];

  constructor(private readonly mailer: WelcomeMailer) {}

  onModuleInit(): void {
    // After COMMIT: no welcome mail for a sign-up that rolls back.
    this.disconnects.push(postSave.connect(this.welcome, { sender: User, phase: 'commit' }));
  }

  onModuleDestroy(): void {
    for (const disconnect of this.disconnects.splice(0)) disconnect();
  }

  /** An arrow function: `this` is the provider when the signal calls it. */
  private readonly welcome = async ({ instance, created }: SavePayload<User, 'commit'>): Promise<void> => {
    if (created) await this.mailer.sendWelcome(instance.email);
  };
}

@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [WelcomeMailer, UserSignals],
  exports: [WelcomeMailer],
})
export class UsersModule {}

@Module({})
export class AppModule {
  /** The application with its database options (the entities and migrations of the example). */
  static forRoot(database: TypeOrmModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [TypeOrmModule.forRoot(database), UsersModule],
      providers: [SignalsInstaller],
    };
  }
}
