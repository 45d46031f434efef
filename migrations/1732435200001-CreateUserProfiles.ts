import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The user_profiles table (src/example/entities/UserProfile.ts): at most one profile per user
 * (a unique foreign key), deleted with its user, gender limited to the tutorial's choices.
 */
export class CreateUserProfiles1732435200001 implements MigrationInterface {
  name = 'CreateUserProfiles1732435200001';

  async up(queryRunner: QueryRunner): Promise<void> {
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
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "user_profiles"`);
  }
}
