// Compiled by tsc in test/unit/typecheck.test.ts: every @ts-expect-error must be a real error.
import { m2mChanged, postDelete, postSave, preSave, receiver, type SavePayload } from '../../src';
import { Author, Post } from '../fixtures/blog';

// With a sender class, instance and previous are that entity.
postSave.connect(
  ({ instance, previous, created, sender }) => {
    const name: string | undefined = instance.name;
    const before: string | undefined = previous?.name;
    const cls: abstract new (...args: any[]) => Author = sender;
    void [name, before, created, cls];
    // @ts-expect-error Author has no field "title"
    void instance.title;
  },
  { sender: Author },
);

// created narrows instance to the whole entity; an update() statement gives a Partial.
postSave.connect(
  (payload) => {
    if (payload.created) {
      const name: string = payload.instance.name;
      void name;
    }
    if (payload.partial) {
      // @ts-expect-error instance is Partial<Author> for update() statements
      const name: string = payload.instance.name;
      void name;
    }
  },
  { sender: Author },
);

// The commit phase has no queryRunner: the transaction is over.
postSave.connect(
  ({ queryRunner, manager }) => {
    const none: undefined = queryRunner;
    void [none, manager];
  },
  { sender: Author, phase: 'commit' },
);
postSave.connect(({ queryRunner }) => void queryRunner.isTransactionActive, { sender: Author });

// @ts-expect-error a pre signal cannot be deferred
preSave.connect(() => undefined, { sender: Author, phase: 'commit' });
// @ts-expect-error not a phase
postSave.connect(() => undefined, { sender: Author, phase: 'later' });

// Batch receivers get items of the sender's payload.
postSave.connect(
  (batch) => {
    const ids: Array<number | undefined> = batch.items.map((i) => i.instance.id);
    void [ids, batch.manager];
    // @ts-expect-error a batch receiver has no single instance
    void batch.instance;
  },
  { sender: Author, batch: true },
);

// @ts-expect-error a per-row receiver does not get items
postSave.connect(({ items }) => void items, { sender: Author });

// Without a sender, the payload is generic.
postDelete.connect(({ instance, entityId, source }) => void [instance?.anything, entityId, source]);

m2mChanged.connect(({ action, relatedIds, relation }) => void [action === 'add', relatedIds.length, relation], { sender: Post });

// receiver() keeps the typing of connect for one signal.
const onAuthor = receiver(postSave, { sender: Author }, ({ instance }) => void instance.name);
void onAuthor;
// @ts-expect-error Author has no field "title", also through receiver()
receiver(postSave, { sender: Author }, ({ instance }) => void instance.title);

// A hand-sent model payload must be complete.
declare const payload: SavePayload<Author>;
void postSave.send(Author, payload);
// @ts-expect-error created is required
void postSave.send(Author, { instance: {}, partial: false });

// dataSource: a DataSource, not its name; receivers() shows it typed.
declare const reports: import('typeorm').DataSource;
postSave.connect(() => undefined, { sender: Post, dataSource: reports });
// @ts-expect-error a connection name works in @OnSignal (typeorm-signals/nestjs) only
postSave.connect(() => undefined, { sender: Post, dataSource: 'reports' });
postSave.disconnect(undefined, { dispatchUid: 'x', dataSource: reports });
const scopedTo: import('typeorm').DataSource | undefined = postSave.receivers(Post)[0].dataSource;
void scopedTo;
