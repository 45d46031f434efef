/**
 * What `npm run bench` compares: the DataSources (one per variant, each with only its own
 * subscribers, on a database of its own), the hand-written TypeORM subscribers the library is
 * measured against, and the operations each variant times.
 */
import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, DeleteQueryBuilder, EventSubscriber, InsertQueryBuilder, UpdateQueryBuilder, type EntitySubscriberInterface, type InsertEvent } from 'typeorm';
import { postSave, SignalsSubscriber } from '../src';
import { exampleMigrations } from '../migrations';
import { User, UserProfile, exampleEntities } from '../src/example/entities';
import { connectExampleReceivers } from '../src/example/receivers';

// SignalsSubscriber's constructor patches the execute() of TypeORM's write query builders for the
// whole process (insert/upsert kinds, criteria rows, a statement's own transaction: statements.ts).
// TypeORM's own methods are kept here, before any SignalsSubscriber exists, so that the variants
// without the plugin run without any of its code.
type Execute = (...args: unknown[]) => Promise<unknown>;
const builderProtos = [InsertQueryBuilder, UpdateQueryBuilder, DeleteQueryBuilder].map((b) => b.prototype as unknown as { execute: Execute });
const typeormExecutes: Execute[] = builderProtos.map((p) => p.execute);
let signalsExecutes: Execute[] | undefined;

/** Puts the query builders' execute() a variant must run with in place (untimed). */
export function usePluginExecute(plugin: boolean): void {
  builderProtos.forEach((proto, i) => {
    proto.execute = plugin ? (signalsExecutes?.[i] ?? proto.execute) : typeormExecutes[i];
  });
}

/** Counts receiver and subscriber calls, so that a variant that silently did nothing is caught. */
export const calls = { receiver: 0, subscriber: 0 };

/** (b) The hand-written equivalent of a per-row no-op postSave receiver. */
@EventSubscriber()
export class NoopUserSubscriber implements EntitySubscriberInterface<User> {
  listenTo() {
    return User;
  }
  afterInsert(_event: InsertEvent<User>): void {
    calls.subscriber++;
  }
}

/**
 * (c) The fair floor: what any subscriber costs TypeORM. A no-op afterInsert on UserProfile, next
 * to NoopUserSubscriber on User, so TypeORM builds an event per row for both tables, as it does
 * for SignalsSubscriber in the batch-receiver variant.
 */
@EventSubscriber()
export class NoopProfileSubscriber implements EntitySubscriberInterface<UserProfile> {
  listenTo() {
    return UserProfile;
  }
  afterInsert(_event: InsertEvent<UserProfile>): void {
    calls.subscriber++;
  }
}

/** (c) The naive signup: one profile INSERT per user, from afterInsert, through event.manager. */
@EventSubscriber()
export class NaiveProfileSubscriber implements EntitySubscriberInterface<User> {
  listenTo() {
    return User;
  }
  async afterInsert(event: InsertEvent<User>): Promise<void> {
    calls.subscriber++;
    await event.manager.insert(UserProfile, { userId: event.entity.id });
  }
}

function noopReceiver(): void {
  calls.receiver++;
}

export type Subscribers = 'none' | 'signals' | 'noop-subscriber' | 'noop-subscribers-both' | 'naive-subscriber';

const subscriberClasses: Record<Subscribers, Function[]> = {
  none: [],
  signals: [SignalsSubscriber],
  'noop-subscriber': [NoopUserSubscriber],
  'noop-subscribers-both': [NoopUserSubscriber, NoopProfileSubscriber],
  'naive-subscriber': [NaiveProfileSubscriber],
};

/** A DataSource on `url` with the example's entities and only the given subscribers, migrated. */
export async function openDataSource(url: string, subscribers: Subscribers): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities: exampleEntities,
    migrations: exampleMigrations,
    subscribers: subscriberClasses[subscribers],
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: { max: 2 },
  });
  await dataSource.initialize();
  if (subscribers === 'signals' && signalsExecutes === undefined) signalsExecutes = builderProtos.map((p) => p.execute);
  // The schema comes from the example migrations, never from synchronize.
  await dataSource.runMigrations({ transaction: 'all' });
  return dataSource;
}

/** Empties both tables between operations, so table size never drifts (untimed). */
export async function truncate(dataSource: DataSource): Promise<void> {
  await dataSource.query('TRUNCATE "user_profiles", "users" RESTART IDENTITY');
}

export function newUsers(n: number, tag: string): User[] {
  const users: User[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const user = new User();
    user.email = `${tag}${i}@example.com`;
    user.name = `User ${i}`;
    users[i] = user;
  }
  return users;
}

/** What a variant does; `run` is the timed part, `connect` (untimed) connects its receivers. */
export interface Operation {
  /** Untimed: build the input. */
  prepare(n: number): unknown;
  /** Untimed, after the tables are emptied and before connect: rows the operation works on. */
  seed?(dataSource: DataSource, n: number): Promise<void>;
  /** Timed. */
  run(dataSource: DataSource, input: unknown): Promise<void>;
  /** Untimed: connect this variant's receivers; returns the function that disconnects them. */
  connect?(): () => unknown;
  /** Untimed: what the database and the counters must show afterwards. */
  expect: { users: (n: number) => number; profiles: (n: number) => number; receiver?: (n: number) => number; subscriber?: (n: number) => number };
}

/** save([...]) of n users in one call (its own transaction). */
export const saveUsers: Operation = {
  prepare: (n) => newUsers(n, 'u'),
  run: async (ds, input) => {
    await ds.getRepository(User).save(input as User[]);
  },
  expect: { users: (n) => n, profiles: () => 0 },
};

// The dispatcher's recursion guard is an AsyncLocalStorage: its first run() (the first dispatch
// to a receiver) enables Node's async hooks for the whole process, for good, so every promise
// anywhere costs a little more from then on, the baselines of (b)-(d) included. (a2) measures that
// tax on plain TypeORM with an AsyncLocalStorage of our own, enabled and disabled around each
// operation; it must run before any receiver has been dispatched to.
const hookProbe = new AsyncLocalStorage<number>();

export const saveUsersWithHooks: Operation = {
  ...saveUsers,
  connect: () => {
    hookProbe.enterWith(1);
    return () => hookProbe.disable();
  },
};

export const saveUsersNoopReceiver: Operation = {
  ...saveUsers,
  connect: () => postSave.connect(noopReceiver, { sender: User }),
  expect: { ...saveUsers.expect, receiver: (n) => n },
};

export const saveUsersNoopSubscriber: Operation = {
  ...saveUsers,
  expect: { ...saveUsers.expect, subscriber: (n) => n },
};

/** Signup: save the users in a transaction; profiles come from a receiver or a subscriber. */
export const signupWithReceivers = (expectSubscriberCalls: boolean): Operation => ({
  prepare: (n) => newUsers(n, 's'),
  run: async (ds, input) => {
    await ds.transaction((manager) => manager.getRepository(User).save(input as User[]).then(() => undefined));
  },
  expect: { users: (n) => n, profiles: (n) => n, ...(expectSubscriberCalls ? { subscriber: (n: number) => n } : {}) },
});

export const signupBatchReceiver: Operation = {
  ...signupWithReceivers(false),
  connect: connectExampleReceivers,
};

/** Signup by hand: save the users, then one bulk profile INSERT (the statement ensureProfileExists sends). */
export const signupByHand: Operation = {
  prepare: (n) => newUsers(n, 's'),
  run: async (ds, input) => {
    await ds.transaction(async (manager) => {
      const users = await manager.getRepository(User).save(input as User[]);
      await manager
        .createQueryBuilder()
        .insert()
        .into(UserProfile)
        .values(users.map((u) => ({ userId: u.id })))
        .orIgnore()
        .updateEntity(false)
        .execute();
    });
  },
  expect: { users: (n) => n, profiles: (n) => n },
};

/** (c) The fair floor: signup by hand on a DataSource with a no-op subscriber on User and UserProfile. */
export const signupByHandNoopSubscribers: Operation = {
  ...signupByHand,
  // afterInsert runs once per user (save) and once per profile (the bulk INSERT's value sets).
  expect: { ...signupByHand.expect, subscriber: (n) => 2 * n },
};

/** (d) n separate save() calls of one user each: n transactions. */
export const singleSaves = (phase: 'commit' | 'transaction' | undefined): Operation => ({
  prepare: (n) => newUsers(n, 't'),
  run: async (ds, input) => {
    const repo = ds.getRepository(User);
    for (const user of input as User[]) await repo.save(user);
  },
  ...(phase ? { connect: () => postSave.connect(noopReceiver, { sender: User, phase }) } : {}),
  expect: { users: (n) => n, profiles: () => 0, ...(phase ? { receiver: (n: number) => n } : {}) },
});
