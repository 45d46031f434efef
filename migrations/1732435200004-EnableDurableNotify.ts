import type { MigrationInterface, QueryRunner } from 'typeorm';
import { examplePgBossSchema } from './1732435200003-CreateDurableQueue';
import { dialectOf } from './dialect';

/**
 * Turns on pg-boss's `notify` for the durable queue CreateDurableQueue made without it: pg-boss's
 * job INSERT then also NOTIFYs (in the write's transaction, so at its COMMIT), and
 * startSignalsWorker() fetches at once instead of at its next poll. An application whose queue
 * came from an earlier durableSchemaSql() writes the same UPDATE in a migration of its own
 * (running processes see it within pg-boss's queue cache interval, 60 s by default). Nothing on
 * MySQL/MariaDB and SQLite, like CreateDurableQueue.
 */
export class EnableDurableNotify1732435200004 implements MigrationInterface {
  name = 'EnableDurableNotify1732435200004';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (dialectOf(queryRunner) !== 'postgres') return;
    await queryRunner.query(`UPDATE ${examplePgBossSchema(queryRunner)}.queue SET notify = true, updated_on = now() WHERE name = 'typeorm-signals'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (dialectOf(queryRunner) !== 'postgres') return;
    await queryRunner.query(`UPDATE ${examplePgBossSchema(queryRunner)}.queue SET notify = false, updated_on = now() WHERE name = 'typeorm-signals'`);
  }
}
