/**
 * typeorm-signals in a NestJS application (docs/nestjs.md):
 *
 * - SignalsModule.forRoot() installs the signals on the DataSource that @nestjs/typeorm creates
 *   and connects the @OnSignal methods of the application's providers when it boots;
 * - UserSignals is an ordinary provider with a dependency (WelcomeMailer): its decorated method
 *   runs with `this` bound to it, and closing the application disconnects it, so an application
 *   created twice (tests, hot reload) never runs a receiver twice.
 */
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { postSave, type SavePayload } from '../../index';
import { OnSignal, SignalsModule } from '../../nestjs';
import { User } from '../entities';

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
export class UserSignals {
  constructor(private readonly mailer: WelcomeMailer) {}

  /** After COMMIT: no welcome mail for a sign-up that rolls back. */
  @OnSignal(postSave, { sender: User, phase: 'commit' })
  async welcome({ instance, created }: SavePayload<User, 'commit'>): Promise<void> {
    if (created) await this.mailer.sendWelcome(instance.email);
  }
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
      imports: [TypeOrmModule.forRoot(database), SignalsModule.forRoot(), UsersModule],
    };
  }
}
