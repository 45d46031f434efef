import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { SignalsSubscriber, postSave, preSave, type EntityId } from '../../src';
import { captureSignals } from '../../src/testing';
import { Tag, blogEntities, blogMigrations } from '../fixtures/blog';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';
import { QueryRecorder } from '../helpers/query-log';

/**
 * On PostgreSQL, upsert() and insert().orUpdate() say per row whether they inserted it
 * (`created: true`) or updated it (`false`), and insert().orIgnore() sends postSave only for the
 * rows it inserted: the statement's RETURNING gains `(xmax = 0)` while postSave listens.
 */
let db: TestDataSource;
let ds: DataSource;
const recorder = new QueryRecorder();
const { listen } = connections();

beforeAll(async () => {
  db = await openTestDataSource({ entities: blogEntities, migrations: blogMigrations, subscribers: [SignalsSubscriber], logger: recorder });
  ds = db.dataSource;
});
afterAll(() => db?.cleanup());
afterEach(async () => {
  recorder.stop();
  await ds.query('TRUNCATE authors, tags RESTART IDENTITY CASCADE');
});

interface Seen {
  label: unknown;
  created: boolean | null;
  entityId: EntityId | undefined;
  source: string;
}
function recordTags(): Seen[] {
  const seen: Seen[] = [];
  listen(postSave.connect(({ instance, created, entityId, source }) => void seen.push({ label: instance.label, created, entityId, source }), { sender: Tag }));
  return seen;
}
const tagIds = async (): Promise<Record<string, number>> =>
  Object.fromEntries((await ds.query('SELECT id, label FROM tags')).map((r: { id: number; label: string }) => [r.label, r.id]));

describe('upsert() and insert().orUpdate()', () => {
  test('created true for the rows inserted, false for the rows updated, each with its id', async () => {
    await ds.getRepository(Tag).insert([{ label: 'b' }, { label: 'd' }]);
    const seen = recordTags();
    await ds.getRepository(Tag).upsert([{ label: 'a' }, { label: 'b' }, { label: 'c' }, { label: 'd' }], ['label']);
    const id = await tagIds();
    expect(seen).toEqual([
      { label: 'a', created: true, entityId: id.a, source: 'upsert' },
      { label: 'b', created: false, entityId: id.b, source: 'upsert' },
      { label: 'c', created: true, entityId: id.c, source: 'upsert' },
      { label: 'd', created: false, entityId: id.d, source: 'upsert' },
    ]);
  });

  test('insert().orUpdate() through the query builder, inside a transaction, twice on the same row', async () => {
    const seen = recordTags();
    await ds.transaction(async (manager) => {
      const upsert = (label: string) => manager.createQueryBuilder().insert().into(Tag).values({ label }).orUpdate(['label'], ['label']).execute();
      await upsert('x');
      await upsert('x');
    });
    expect(seen.map((s) => [s.label, s.created])).toEqual([
      ['x', true],
      ['x', false],
    ]);
  });

  test('batch receivers get created per item; preSave, before the statement, still says null', async () => {
    await ds.getRepository(Tag).insert({ label: 'old' });
    const batches: Array<Array<[unknown, boolean | null]>> = [];
    const before: Array<boolean | null> = [];
    listen(postSave.connect(({ items }) => void batches.push(items.map((i) => [i.instance.label, i.created])), { sender: Tag, batch: true }));
    listen(preSave.connect(({ created }) => void before.push(created), { sender: Tag }));
    await ds.getRepository(Tag).upsert([{ label: 'old' }, { label: 'new' }], ['label']);
    expect(batches).toEqual([
      [
        ['old', false],
        ['new', true],
      ],
    ]);
    expect(before).toEqual([null, null]);
  });

  test('a capture records created too', async () => {
    await ds.getRepository(Tag).insert({ label: 'old' });
    const { records } = await captureSignals(() => ds.getRepository(Tag).upsert([{ label: 'old' }, { label: 'new' }], ['label']), { signals: [postSave] });
    expect(records.map((r) => r.payload.created)).toEqual([false, true]);
  });
});

describe('insert().orIgnore()', () => {
  test('postSave only for the rows inserted, created true, with their own ids (also where TypeORM copies ids by position)', async () => {
    await ds.getRepository(Tag).insert([{ label: 'b' }]);
    const seen = recordTags();
    const values = [{ label: 'a' }, { label: 'b' }, { label: 'c' }, { label: 'a' }];
    await ds.createQueryBuilder().insert().into(Tag).values(values).orIgnore().execute();
    const id = await tagIds();
    expect(seen).toEqual([
      { label: 'a', created: true, entityId: id.a, source: 'insert' },
      { label: 'c', created: true, entityId: id.c, source: 'insert' },
    ]);
  });

  test('every row ignored: nothing is sent', async () => {
    await ds.getRepository(Tag).insert([{ label: 'a' }, { label: 'b' }]);
    const seen = recordTags();
    await ds.createQueryBuilder().insert().into(Tag).values([{ label: 'a' }, { label: 'b' }]).orIgnore().updateEntity(false).execute();
    expect(seen).toEqual([]);
  });
});

describe('what the caller gets back is unchanged', () => {
  const writes = {
    'upsert()': () => ds.getRepository(Tag).upsert([{ label: 'a' }, { label: 'b' }], ['label']),
    'orIgnore() with updateEntity(false)': () => ds.createQueryBuilder().insert().into(Tag).values([{ label: 'a' }, { label: 'c' }]).orIgnore().updateEntity(false).execute(),
    'orUpdate() with returning("*")': () => ds.createQueryBuilder().insert().into(Tag).values([{ label: 'a' }]).orUpdate(['label'], ['label']).returning('*').execute(),
  };
  test.each(Object.keys(writes))('%s: the same InsertResult with and without a receiver', async (name) => {
    const write = writes[name as keyof typeof writes];
    const run = async () => {
      await ds.query('TRUNCATE tags RESTART IDENTITY CASCADE');
      await ds.getRepository(Tag).insert({ label: 'a' });
      const { raw, identifiers, generatedMaps } = await write();
      return { raw, identifiers, generatedMaps };
    };
    const without = await run();
    recordTags();
    recorder.start();
    const withReceiver = await run();
    expect(recorder.matching('xmax = 0')).toHaveLength(1);
    expect(withReceiver).toEqual(without);
  });

  test('nothing listening: no xmax in the statement', async () => {
    recorder.start();
    await ds.getRepository(Tag).upsert({ label: 'a' }, ['label']);
    await ds.createQueryBuilder().insert().into(Tag).values({ label: 'a' }).orIgnore().execute();
    expect(recorder.queries.length).toBe(2);
    expect(recorder.matching('xmax')).toEqual([]);
  });
});
