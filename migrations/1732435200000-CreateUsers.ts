import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from './dialect';

/**
 * The users table (src/example/entities/User.ts), in each dialect's own SQL: the columns and
 * constraint names are those the entity declares, so TypeORM finds nothing to change.
 */
export class CreateUsers1732435200000 implements MigrationInterface {
  name = 'CreateUsers1732435200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    switch (dialectOf(queryRunner)) {
      case 'postgres':
        await queryRunner.query(`
          CREATE TABLE "users" (
            "id" SERIAL NOT NULL,
            "email" character varying(254) NOT NULL,
            "name" character varying(128),
            "created_at" TIMESTAMP NOT NULL DEFAULT now(),
            CONSTRAINT "users_pkey" PRIMARY KEY ("id"),
            CONSTRAINT "users_email_key" UNIQUE ("email")
          )`);
        return;
      case 'mysql':
        // MySQL names every primary key PRIMARY; a UNIQUE constraint is a unique index.
        await queryRunner.query(`
          CREATE TABLE \`users\` (
            \`id\` int NOT NULL AUTO_INCREMENT,
            \`email\` varchar(254) NOT NULL,
            \`name\` varchar(128) NULL,
            \`created_at\` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
            PRIMARY KEY (\`id\`),
            UNIQUE INDEX \`users_email_key\` (\`email\`)
          ) ENGINE=InnoDB`);
        return;
      case 'sqlite':
        // One line, in the form TypeORM writes: it reads constraint names back out of this SQL.
        await queryRunner.query(
          'CREATE TABLE "users" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "email" varchar(254) NOT NULL, ' +
            '"name" varchar(128), "created_at" datetime NOT NULL DEFAULT (datetime(\'now\')), CONSTRAINT "users_email_key" UNIQUE ("email"))',
        );
        return;
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(dialectOf(queryRunner) === 'mysql' ? 'DROP TABLE `users`' : 'DROP TABLE "users"');
  }
}
