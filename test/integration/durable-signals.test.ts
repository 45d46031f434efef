/**
 * The other post signals a durable receiver can listen to: postSoftDelete and postRestore (the
 * row's id, load() reading the row with its deletedAt), and m2mChanged (owner id, related ids,
 * the related entity class back from its name).
 */
import 'reflect-metadata';
import { m2mChanged, postRestore, postSoftDelete } from '../../src';
import { drainDurable } from '../../src/testing';
import { exampleMigrations } from '../../migrations';
import { User, UserProfile } from '../../src/example/entities';
import { Author, Post, Tag, fixtureEntities, fixtureMigrations } from '../fixtures/blog';
import { openDurableTest, type DurableTest } from '../helpers/durable';

let t: DurableTest;
beforeAll(async () => {
  t = await openDurableTest({ entities: [User, UserProfile, ...fixtureEntities], migrations: [...exampleMigrations, ...fixtureMigrations] });
});
afterAll(() => t?.cleanup());
afterEach(async () => {
  await t.reset();
  await t.ds.query('TRUNCATE post_tags, posts, tags, authors RESTART IDENTITY CASCADE');
});

test('postSoftDelete and postRestore: the job has the id; load() reads the row as it is when the job runs', async () => {
  const seen: Array<[string, unknown, string, boolean]> = [];
  t.listen(
    postSoftDelete.connect(async ({ entityId, source, load }) => void seen.push(['soft-deleted', entityId, source, ((await load()) as Author | null)?.deletedAt instanceof Date]), {
      sender: Author,
      phase: 'durable',
      dispatchUid: 'unpublish-author',
    }),
  );
  t.listen(
    postRestore.connect(async ({ entityId, source, load }) => void seen.push(['restored', entityId, source, ((await load()) as Author | null)?.deletedAt === null]), {
      sender: Author,
      phase: 'durable',
      dispatchUid: 'republish-author',
    }),
  );
  const authors = t.ds.getRepository(Author);
  const ada = await authors.save({ name: 'Ada' });
  await authors.softRemove(ada);
  expect(await drainDurable(t.ds)).toEqual({ ran: 1, failed: 0 });
  await authors.recover(ada);
  expect(await drainDurable(t.ds)).toEqual({ ran: 1, failed: 0 });
  expect(seen).toEqual([
    ['soft-deleted', ada.id, 'softRemove', true],
    ['restored', ada.id, 'recover', true],
  ]);
});

test('m2mChanged: owner id, related ids and the related class (from its entity name) arrive', async () => {
  const seen: unknown[] = [];
  t.listen(
    m2mChanged.connect(({ action, relation, entityId, relatedIds, model }) => void seen.push({ action, relation, entityId, relatedIds: [...relatedIds].sort(), model }), {
      sender: Post,
      phase: 'durable',
      dispatchUid: 'tag-counts',
    }),
  );
  const tags = await t.ds.getRepository(Tag).save([{ label: 'orm' }, { label: 'signals' }]);
  const post = await t.ds.getRepository(Post).save({ title: 'Durable', tags });
  expect(await drainDurable(t.ds)).toEqual({ ran: 1, failed: 0 });
  expect(seen).toEqual([{ action: 'add', relation: 'tags', entityId: post.id, relatedIds: tags.map((tag) => tag.id).sort(), model: Tag }]);
  const [job] = await t.jobs();
  expect(job.data.model).toBe('Tag'); // the entity name travels, not the class
});
