/**
 * The example on an in-memory PGlite database, run in a child process by
 * test/integration/pglite-example.test.ts (PGlite does not load inside jest's sandbox).
 * Prints one `RESULT {json}` line for the test to check.
 */
import 'reflect-metadata';
import { postSave } from '../../src';
import { createExampleDataSource } from '../../src/example/data-source';
import { User, UserProfile } from '../../src/example/entities';
import { connectExampleReceivers } from '../../src/example/receivers';

async function main() {
  const ds = createExampleDataSource({ url: null });
  const disconnectExample = connectExampleReceivers();
  const sent: Array<{ sender: string; created: boolean | null; source: string }> = [];
  const disconnectRecorder = postSave.connect(({ sender, created, source }) => {
    sent.push({ sender: typeof sender === 'string' ? sender : sender.name, created, source });
  });
  try {
    await ds.initialize();
    const migrations = (await ds.runMigrations()).map((m) => m.name);
    const drift = (await ds.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query);
    const users = ds.getRepository(User);

    const user = await users.save(users.create({ email: 'pglite@example.com', name: 'P. Lite' }));
    user.name = 'PG Lite';
    await users.save(user);
    const loaded = await users.findOneOrFail({ where: { id: user.id }, relations: { profile: true } });

    // A failing receiver rolls the sign-up back on PGlite too.
    const disconnectFailing = postSave.connect(
      () => {
        throw new Error('receiver failed');
      },
      { sender: User },
    );
    let failure: string | undefined;
    try {
      await users.save(users.create({ email: 'doomed@example.com' }));
    } catch (error) {
      failure = (error as Error).message;
    } finally {
      disconnectFailing();
    }

    const result = {
      migrations,
      drift,
      user: { id: loaded.id, email: loaded.email, name: loaded.name },
      profile: loaded.profile ? { userId: loaded.profile.userId, gender: loaded.profile.gender, nickname: loaded.profile.nickname } : null,
      users: await users.count(),
      profiles: await ds.getRepository(UserProfile).count(),
      sent,
      failure,
    };
    console.log(`RESULT ${JSON.stringify(result)}`);
  } finally {
    disconnectRecorder();
    disconnectExample();
    if (ds.isInitialized) await ds.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
