/**
 * Issue 14 item 7: a failure that does not reject the write (a commit- or rollback-phase
 * receiver, sendRobust, an onCommit callback) is reported with the error's class, its code when
 * it has one, and where the receiver was connected; the error's message (which may hold values)
 * only with configureSignals({ logErrorMessages: true }). On a real PostgreSQL: the rollback
 * receiver's error is the server's own (QueryFailedError, SQLSTATE 42P01).
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { SignalsSubscriber, configureSignals, onCommit, postSave, type FailureReport } from '../../src';
import { Author, blogEntities, blogMigrations } from '../fixtures/blog';
import { openTestDataSource, type TestDataSource } from '../helpers/database';
import { connections } from '../helpers/connections';

let db: TestDataSource;
let ds: DataSource;
const { listen } = connections();
const reports: FailureReport[] = [];
const lines: string[] = [];

class MailError extends Error {
  readonly code = 'ECONNREFUSED';
}

beforeAll(async () => {
  db = await openTestDataSource({ entities: blogEntities, migrations: blogMigrations, subscribers: [SignalsSubscriber] });
  ds = db.dataSource;
});
afterAll(async () => {
  configureSignals({ logger: null, onReceiverError: null, logErrorMessages: false });
  await db?.cleanup();
});
beforeEach(() => {
  reports.length = 0;
  lines.length = 0;
  configureSignals({ logger: { error: (message) => void lines.push(message) }, onReceiverError: (r) => void reports.push(r) });
});
afterEach(async () => {
  configureSignals({ logger: null, onReceiverError: null, logErrorMessages: false });
  await ds.query('TRUNCATE authors RESTART IDENTITY CASCADE');
});

function connectedAt(receiver: Function): string | undefined {
  return postSave.receivers(Author).find((r) => r.receiver === receiver)?.connectedAt;
}

function connectFailingMailer(): Function {
  function sendWelcomeMail({ instance }: { instance: Partial<Author> }) {
    throw new MailError(`smtp refused the welcome mail for ${instance.name}`);
  }
  listen(postSave.connect(sendWelcomeMail, { sender: Author, phase: 'commit' }));
  return sendWelcomeMail;
}

test('a commit-phase failure: class, code and where the receiver was connected; not the message, which holds a value', async () => {
  const receiver = connectFailingMailer();
  await ds.getRepository(Author).save({ name: 'ada-secret' });
  const at = connectedAt(receiver);
  expect(at).toMatch(/failure-reports\.test\.ts:\d+$/);
  expect(reports).toEqual([
    {
      signal: 'postSave',
      receiver: 'sendWelcomeMail',
      sender: 'Author',
      context: 'commit',
      errorClass: 'MailError',
      code: 'ECONNREFUSED',
      connectedAt: at,
      error: expect.any(MailError),
    },
  ]);
  expect(lines).toEqual([
    `typeorm-signals: receiver sendWelcomeMail (connected at ${at}) of signal "postSave" failed for sender Author (commit): MailError (code ECONNREFUSED)`,
  ]);
});

test('logErrorMessages: true ends the line with the error message', async () => {
  configureSignals({ logErrorMessages: true });
  const receiver = connectFailingMailer();
  await ds.getRepository(Author).save({ name: 'grace' });
  expect(lines).toEqual([
    `typeorm-signals: receiver sendWelcomeMail (connected at ${connectedAt(receiver)}) of signal "postSave" failed for sender Author (commit): ` +
      'MailError (code ECONNREFUSED): smtp refused the welcome mail for grace',
  ]);
});

test("a rollback-phase receiver whose query fails: the driver's error class and SQLSTATE", async () => {
  async function recordFailedSignup({ manager }: { manager: DataSource['manager'] }) {
    await manager.query('INSERT INTO no_such_table VALUES (1)');
  }
  listen(postSave.connect(recordFailedSignup, { sender: Author, phase: 'rollback' }));
  await expect(
    ds.transaction(async (m) => {
      await m.save(Author, { name: 'rolled back' });
      throw new Error('cancel');
    }),
  ).rejects.toThrow('cancel');
  expect(reports).toEqual([expect.objectContaining({ receiver: 'recordFailedSignup', context: 'rollback', errorClass: 'QueryFailedError', code: '42P01' })]);
  expect(lines).toEqual([
    `typeorm-signals: receiver recordFailedSignup (connected at ${connectedAt(recordFailedSignup)}) of signal "postSave" failed for sender Author (rollback): QueryFailedError (code 42P01)`,
  ]);
});

test('an error without a code, and a code that is free text, report the class only', async () => {
  function plainFailure() {
    throw new TypeError('cannot read the mail template');
  }
  function wordyCode() {
    throw Object.assign(new Error('x'), { code: 'mail to ada@example.com refused' });
  }
  listen(postSave.connect(plainFailure, { sender: Author, phase: 'commit' }));
  listen(postSave.connect(wordyCode, { sender: Author, phase: 'commit' }));
  await ds.getRepository(Author).save({ name: 'linus' });
  expect(reports.map(({ receiver, errorClass, code }) => ({ receiver, errorClass, code }))).toEqual([
    { receiver: 'plainFailure', errorClass: 'TypeError', code: undefined },
    { receiver: 'wordyCode', errorClass: 'Error', code: undefined },
  ]);
  expect(lines.join('\n')).not.toContain('ada@example.com');
});

test('an onCommit callback is reported as a callback, not as a signal with sender (none)', async () => {
  await ds.transaction(async (m) => {
    await m.save(Author, { name: 'x' });
    await onCommit(m, function notifyIndexer() {
      throw new MailError('down');
    });
  });
  expect(lines).toEqual(['typeorm-signals: onCommit() callback notifyIndexer failed: MailError (code ECONNREFUSED)']);
  expect(reports).toEqual([expect.objectContaining({ signal: 'onCommit', receiver: 'notifyIndexer', errorClass: 'MailError', code: 'ECONNREFUSED' })]);
});
