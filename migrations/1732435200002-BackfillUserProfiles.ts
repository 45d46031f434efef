import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from './dialect';

/**
 * Data migration: an empty profile for every user that has none. Users that signed up before
 * the profile receiver was deployed get the profile it would have created.
 *
 * down() deliberately does nothing: once this has run, a backfilled profile cannot be told
 * apart from one the receiver created or one its user has since filled in, and deleting
 * profiles would lose data. Reverting the schema (the previous migration's down) drops them all.
 */
export class BackfillUserProfiles1732435200002 implements MigrationInterface {
  name = 'BackfillUserProfiles1732435200002';

  async up(queryRunner: QueryRunner): Promise<void> {
    switch (dialectOf(queryRunner)) {
      case 'postgres':
        await queryRunner.query(`
          INSERT INTO "user_profiles" ("user_id")
          SELECT "u"."id" FROM "users" "u"
          WHERE NOT EXISTS (SELECT 1 FROM "user_profiles" "p" WHERE "p"."user_id" = "u"."id")
          ORDER BY "u"."id"
          ON CONFLICT ("user_id") DO NOTHING`);
        return;
      case 'mysql':
        await queryRunner.query(`
          INSERT IGNORE INTO \`user_profiles\` (\`user_id\`)
          SELECT \`u\`.\`id\` FROM \`users\` \`u\`
          WHERE NOT EXISTS (SELECT 1 FROM \`user_profiles\` \`p\` WHERE \`p\`.\`user_id\` = \`u\`.\`id\`)
          ORDER BY \`u\`.\`id\``);
        return;
      case 'sqlite':
        await queryRunner.query(`
          INSERT OR IGNORE INTO "user_profiles" ("user_id")
          SELECT "u"."id" FROM "users" "u"
          WHERE NOT EXISTS (SELECT 1 FROM "user_profiles" "p" WHERE "p"."user_id" = "u"."id")
          ORDER BY "u"."id"`);
        return;
    }
  }

  async down(): Promise<void> {
    // Intentionally a no-op: see the class comment.
  }
}
