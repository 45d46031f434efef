import { postSave, type BatchPayload, type Disconnect, type DurableReceiver, type SavePayload } from '../index';
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
 * Connects the example's in-transaction receivers: ensureProfileExists as a batch receiver of
 * postSave for User, running inside the write's transaction. Idempotent (a dispatchUid); returns
 * a function that disconnects them. It works on every driver; the durable welcome mail
 * (connectWelcomeMail) needs PostgreSQL and a queue, so it is connected apart.
 */
export function connectExampleReceivers(): Disconnect {
  return postSave.connect(ensureProfileExists, {
    sender: User,
    batch: true,
    phase: 'transaction',
    dispatchUid: ENSURE_PROFILE_UID,
  });
}

/** A welcome mail, as the example's Mailer gets it. */
export interface WelcomeMail {
  to: string;
  subject: string;
  /**
   * The job's deliveryId: the same on every retry of one delivery. Mail APIs take such a key
   * (an "Idempotency-Key" header) and send once however often it is retried.
   */
  idempotencyKey: string;
}

/** Where the example's welcome mails go: a mail API in an application, a list in a test. */
export interface Mailer {
  send(mail: WelcomeMail): Promise<void> | void;
}

/** Stands in for a mail API: prints the mail (the example's fake addresses only). */
export const consoleMailer: Mailer = {
  send(mail) {
    console.log(`mail "${mail.subject}" to ${mail.to} (idempotency key ${mail.idempotencyKey})`);
  },
};

/** The dispatchUid of the welcome mail: the jobs name their receiver by it, in every process. */
export const WELCOME_MAIL_UID = 'typeorm-signals/example:sendWelcomeMail';

/** Six attempts over about ten minutes (10 s, ~20 s, ~40 s, ... apart), then the dead-letter queue. */
export const WELCOME_MAIL_RETRY = { limit: 5, delay: 10, backoff: true } as const;

/**
 * The welcome mail, a durable receiver: the sign-up's transaction also inserts its pg-boss job,
 * so a process that dies right after COMMIT loses no mail (a commit-phase receiver would run in
 * that process's memory, and die with it), and a worker process sends it. The job carries the
 * user's id, not the address; the receiver reads the row as it is now (null: deleted since, no
 * mail). A failed send is retried per WELCOME_MAIL_RETRY with the same idempotency key.
 */
export function welcomeMail(mailer: Mailer): DurableReceiver<'save', User> {
  return async function sendWelcomeMail({ created, load, deliveryId }) {
    if (!created) return;
    const user = await load();
    if (!user) return;
    await mailer.send({ to: user.email, subject: user.name ? `Welcome, ${user.name}!` : 'Welcome!', idempotencyKey: deliveryId });
  };
}

/**
 * Connects the welcome mail (durable, so the DataSource needs a queue: installSignals(dataSource,
 * { durable: boss }), PostgreSQL only). Idempotent (a dispatchUid: a second call keeps the first
 * mailer); returns a function that disconnects it.
 */
export function connectWelcomeMail(mailer: Mailer = consoleMailer): Disconnect {
  return postSave.connect(welcomeMail(mailer), {
    sender: User,
    phase: 'durable',
    dispatchUid: WELCOME_MAIL_UID,
    retry: WELCOME_MAIL_RETRY,
  });
}
