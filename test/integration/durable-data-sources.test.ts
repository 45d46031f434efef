/**
 * Durable receivers need PostgreSQL with a bound queue: binding one to SQLite fails with an error
 * naming the DataSource, a write there fails and writes nothing, and checkSignals() reports the
 * durable receivers a DataSource cannot serve (not PostgreSQL, or no queue bound) before any write.
 */
import 'reflect-metadata';
import { SignalsError, SignalsSubscriber, checkSignals, installSignals, postSave, postDelete } from '../../src';
import { exampleMigrations } from '../../migrations';
import { User, UserProfile } from '../../src/example/entities';
import { openDurableTest, type DurableTest } from '../helpers/durable';
import { targets, type OpenTarget } from '../drivers/targets';

let t: DurableTest;
let sqlite: OpenTarget | undefined;
const sqliteMissing = targets.sqlite.unavailable();

beforeAll(async () => {
  t = await openDurableTest();
  if (!sqliteMissing) sqlite = await targets.sqlite.open({ entities: [User, UserProfile], migrations: exampleMigrations, subscribers: [SignalsSubscriber] });
});
afterAll(async () => {
  await sqlite?.cleanup();
  await t?.cleanup();
});
afterEach(() => t.reset());

const durableCodes = (problems: ReturnType<typeof checkSignals>) => problems.filter((p) => p.code.startsWith('durable-'));

(sqliteMissing ? test.skip : test)('SQLite: binding a queue fails naming the DataSource; a durable write fails and writes nothing', async () => {
  const ds = sqlite!.dataSource;
  expect(() => installSignals(ds, { durable: t.boss })).toThrow(SignalsError);
  expect(() => installSignals(ds, { durable: t.boss })).toThrow(
    /installSignals\(\): durable receivers need PostgreSQL.*DataSource \(better-sqlite3, database ".*test\.sqlite"\) is not PostgreSQL\. Use phase 'commit'/,
  );
  t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
  await expect(ds.getRepository(User).save({ email: 'ada@example.com' })).rejects.toThrow(
    /durable receiver "welcome-mail" for sender User has no queue on DataSource \(better-sqlite3.*Durable receivers need PostgreSQL/,
  );
  expect(await ds.getRepository(User).count()).toBe(0);
});

(sqliteMissing ? test.skip : test)('checkSignals() on SQLite reports each durable receiver of its entities as durable-unsupported', () => {
  const ds = sqlite!.dataSource;
  const welcome = function sendWelcomeMail() {};
  t.listen(postSave.connect(welcome, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
  t.listen(postDelete.connect(() => undefined, { phase: 'durable', dispatchUid: 'audit-deletes' })); // every sender
  t.listen(postSave.connect(() => undefined, { sender: User, phase: 'commit' })); // not durable: fine
  const problems = durableCodes(checkSignals(ds));
  expect(problems.map((p) => [p.code, p.signal?.name])).toEqual([
    ['durable-unsupported', 'postSave'],
    ['durable-unsupported', 'postDelete'],
  ]);
  expect(problems[0].receiver).toBe(welcome);
  expect(problems[0].sender).toBe(User);
  expect(problems[0].message).toMatch(
    /^checkSignals\(\): durable receiver "welcome-mail" \(sendWelcomeMail\) of postSave \(connected at .*durable-data-sources\.test\.ts:\d+\) listens to writes of DataSource \(better-sqlite3.*which is not PostgreSQL/,
  );
});

test('checkSignals() on PostgreSQL: durable-unbound without a queue, nothing once installSignals bound one', () => {
  t.listen(postSave.connect(() => undefined, { sender: User, phase: 'durable', dispatchUid: 'welcome-mail' }));
  t.listen(postSave.connect(() => undefined, { sender: 'Invoice', phase: 'durable', dispatchUid: 'elsewhere' })); // not an entity here
  expect(durableCodes(checkSignals(t.ds))).toEqual([]);
  t.unbind();
  try {
    const problems = durableCodes(checkSignals(t.ds));
    expect(problems.map((p) => p.code)).toEqual(['durable-unbound']);
    expect(problems[0].message).toMatch(/durable receiver "welcome-mail" .* has no durable queue bound, so those writes fail and roll back; call installSignals\(dataSource, \{ durable: boss \}\)/);
  } finally {
    t.bind();
  }
  expect(durableCodes(checkSignals(t.ds))).toEqual([]);
});
