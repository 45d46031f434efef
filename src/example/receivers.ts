import { postSave, type BatchPayload, type Disconnect, type SavePayload } from '../index';
import { User, UserProfile } from './entities';

/** What ensureProfileExists receives: one postSave batch for User, in the write's transaction. */
export type SavedUsers = BatchPayload<SavePayload<User, 'transaction'>, 'transaction'>;

/** The dispatchUid connectExampleReceivers() uses: connecting twice connects once. */
export const ENSURE_PROFILE_UID = 'typeorm-signals/example:ensureProfileExists';

function userIdOf(item: SavedUsers['items'][number]): number {
  const id = item.instance?.id ?? item.entityId;
  if (typeof id !== 'number') {
    throw new Error(`ensureProfileExists: a created User without a numeric id (got ${typeof id})`);
  }
  return id;
}

/**
 * The tutorial's ensure_profile_exists, once per write instead of once per row: for the users the
 * write created, it inserts the missing empty profiles with ONE statement,
 *
 *   INSERT INTO "user_profiles"("user_id", "nickname", "dob", "gender", "bio")
 *   VALUES ($1, DEFAULT, DEFAULT, DEFAULT, DEFAULT), ($2, DEFAULT, ...), ... ON CONFLICT DO NOTHING
 *
 * through the write's own manager, so the profiles commit or roll back with the users. A user that
 * already has a profile keeps it (the unique user_id is the only key this insert can collide
 * with, the id being generated, so the target-less ON CONFLICT that TypeORM's orIgnore() emits
 * means "ON CONFLICT (user_id)" here). Updates (created false) create nothing, nor do upserts
 * where the database cannot tell an insert from an update (created null: MySQL, MariaDB, SQLite);
 * on PostgreSQL an upsert that inserts a user says created true and the user gets a profile. The
 * backfill migration covers users from before this receiver. On MySQL/MariaDB orIgnore() emits
 * INSERT IGNORE, on SQLite INSERT OR IGNORE: the same effect.
 *
 * This insert sends postSave for UserProfile in turn: on PostgreSQL only for the profiles it
 * inserted, with `created: true`; elsewhere for every value with `created: null`, because after
 * INSERT IGNORE TypeORM cannot tell which rows were inserted.
 */
export async function ensureProfileExists({ items, manager }: Pick<SavedUsers, 'items' | 'manager'>): Promise<void> {
  const userIds = [...new Set(items.filter((item) => item.created === true).map(userIdOf))];
  if (userIds.length === 0) return;
  await manager
    .createQueryBuilder()
    .insert()
    .into(UserProfile)
    .values(userIds.map((userId) => ({ userId })))
    .orIgnore()
    // No RETURNING: with ON CONFLICT DO NOTHING it returns fewer rows than values, and TypeORM
    // would copy generated ids onto the wrong value objects.
    .updateEntity(false)
    .execute();
}

/**
 * Connects the example's receivers: ensureProfileExists as a batch receiver of postSave for User,
 * running inside the write's transaction. Idempotent (a dispatchUid); returns a function that
 * disconnects them.
 */
export function connectExampleReceivers(): Disconnect {
  return postSave.connect(ensureProfileExists, {
    sender: User,
    batch: true,
    phase: 'transaction',
    dispatchUid: ENSURE_PROFILE_UID,
  });
}
