/**
 * A test file's durable set-up: its own database migrated with the example's migrations (pg-boss's
 * schema included), a started PgBoss on it (migrate: false, as an application would start it),
 * and the DataSource bound to it with installSignals(dataSource, { durable: boss }).
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import type { PgBoss } from 'pg-boss';
import { SignalsSubscriber, installSignals } from '../../src';
import { exampleMigrations } from '../../migrations';
import { User, UserProfile } from '../../src/example/entities';
import { openTestDataSource, type TestDataSource, type TestDataSourceOptions } from './database';
import { keptConnections } from './connections';
import { startBoss } from './pg-boss';

export interface DurableTest {
  db: TestDataSource;
  ds: DataSource;
  boss: PgBoss;
  /** installSignals' undo; `bind()` binds again. */
  unbind: () => void;
  bind(): void;
  /** Disconnects what `listen` connected and empties the users, profiles and pg-boss's jobs. */
  reset(): Promise<void>;
  /** Keeps a connect()'s disconnect for reset(). */
  listen(off: () => boolean): void;
  /** The jobs of `queue` (default: the durable queue), oldest first. */
  jobs(queue?: string): Promise<DurableJobRow[]>;
  cleanup(): Promise<void>;
}

export interface DurableJobRow {
  id: string;
  state: string;
  data: Record<string, any>;
  retryCount: number;
  retryLimit: number;
  output: Record<string, any> | null;
}

export async function openDurableTest(options: Partial<TestDataSourceOptions> = {}): Promise<DurableTest> {
  const db = await openTestDataSource({ entities: [User, UserProfile], migrations: exampleMigrations, subscribers: [SignalsSubscriber], ...options });
  const ds = db.dataSource;
  const boss = await startBoss(db.database.url);
  const connections = keptConnections();
  const test: DurableTest = {
    db,
    ds,
    boss,
    unbind: () => undefined,
    bind() {
      test.unbind = installSignals(ds, { durable: boss });
    },
    listen(off) {
      connections.listen(off);
    },
    async reset() {
      connections.disconnectAll();
      await ds.query('TRUNCATE users, user_profiles RESTART IDENTITY CASCADE');
      await ds.query('DELETE FROM pgboss.job');
    },
    async jobs(queue = 'typeorm-signals') {
      return ds.query(
        `SELECT id::text, state::text, data, retry_count AS "retryCount", retry_limit AS "retryLimit", output
         FROM pgboss.job WHERE name = $1 ORDER BY created_on, id`,
        [queue],
      );
    },
    async cleanup() {
      test.unbind();
      connections.disconnectAll();
      await boss.stop({ graceful: false, close: true });
      await db.cleanup();
    },
  };
  test.bind();
  return test;
}
