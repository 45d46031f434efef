import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from './dialect';

/**
 * The user_profiles table (src/example/entities/UserProfile.ts): at most one profile per user
 * (a unique foreign key), deleted with its user, gender limited to the tutorial's choices.
 */
export class CreateUserProfiles1732435200001 implements MigrationInterface {
  name = 'CreateUserProfiles1732435200001';

  async up(queryRunner: QueryRunner): Promise<void> {
    switch (dialectOf(queryRunner)) {
      case 'postgres':
        await queryRunner.query(`
          CREATE TABLE "user_profiles" (
            "id" SERIAL NOT NULL,
            "user_id" integer NOT NULL,
            "nickname" character varying(64),
            "dob" date,
            "gender" character varying(1) NOT NULL DEFAULT 'M',
            "bio" character varying(1024),
            CONSTRAINT "user_profiles_pkey" PRIMARY KEY ("id"),
            CONSTRAINT "user_profiles_user_id_key" UNIQUE ("user_id"),
            CONSTRAINT "user_profiles_user_id_fkey" FOREIGN KEY ("user_id")
              REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION,
            CONSTRAINT "user_profiles_gender_check" CHECK ("gender" IN ('M', 'F', 'P'))
          )`);
        return;
      case 'mysql':
        // TypeORM names a one-to-one's unique key REL_<hash> and, on MySQL and SQLite, compares
        // keys by name: with that name, schema sync finds nothing to change. TypeORM leaves CHECK
        // constraints alone on MySQL; the one here uses backquotes, as "gender" would be a
        // string literal in MySQL's default mode.
        await queryRunner.query(`
          CREATE TABLE \`user_profiles\` (
            \`id\` int NOT NULL AUTO_INCREMENT,
            \`user_id\` int NOT NULL,
            \`nickname\` varchar(64) NULL,
            \`dob\` date NULL,
            \`gender\` varchar(1) NOT NULL DEFAULT 'M',
            \`bio\` varchar(1024) NULL,
            UNIQUE INDEX \`REL_6ca9503d77ae39b4b5a6cc3ba8\` (\`user_id\`),
            PRIMARY KEY (\`id\`),
            CONSTRAINT \`user_profiles_gender_check\` CHECK (\`gender\` IN ('M', 'F', 'P'))
          ) ENGINE=InnoDB`);
        await queryRunner.query(
          'ALTER TABLE `user_profiles` ADD CONSTRAINT `user_profiles_user_id_fkey` FOREIGN KEY (`user_id`) ' +
            'REFERENCES `users`(`id`) ON DELETE CASCADE ON UPDATE NO ACTION',
        );
        return;
      case 'sqlite':
        // One line, in the form TypeORM writes: it reads constraint names back out of this SQL.
        await queryRunner.query(
          'CREATE TABLE "user_profiles" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "user_id" integer NOT NULL, ' +
            '"nickname" varchar(64), "dob" date, "gender" varchar(1) NOT NULL DEFAULT (\'M\'), "bio" varchar(1024), ' +
            'CONSTRAINT "REL_6ca9503d77ae39b4b5a6cc3ba8" UNIQUE ("user_id"), ' +
            'CONSTRAINT "user_profiles_gender_check" CHECK ("gender" IN (\'M\', \'F\', \'P\')), ' +
            'CONSTRAINT "user_profiles_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)',
        );
        return;
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(dialectOf(queryRunner) === 'mysql' ? 'DROP TABLE `user_profiles`' : 'DROP TABLE "user_profiles"');
  }
}
