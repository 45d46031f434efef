/**
 * The neutral entry point under vitest: `expect.extend(signalMatchers)` with the matchers of
 * typeorm-signals/matchers, the way bun test (test/package/install.pkg.ts runs it with bun) and any
 * other runner with jest-style matchers register them. And why typeorm-signals/vitest exists: without
 * a registration, vitest knows no toHaveSent. This file never imports typeorm-signals/vitest (each
 * vitest test file has its own module graph and expect).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Signal } from 'typeorm-signals';
import { signalMatchers } from 'typeorm-signals/matchers';
import { captureSignals } from 'typeorm-signals/testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
class Invitation {}
const invited = new Signal<{ email: string }>({ name: 'invited' });

test('before any registration, vitest has no toHaveSent (the error users met with typeorm-signals/jest)', () => {
  expect(() => (expect([]) as unknown as { toHaveSent(): void }).toHaveSent()).toThrow(/Invalid Chai property: toHaveSent/);
});

describe('after expect.extend(signalMatchers)', () => {
  test('toHaveSent, .not and toHaveSentTimes pass and fail on real sends, with asymmetric matchers', async () => {
    expect.extend(signalMatchers);
    const { records } = await captureSignals(async () => {
      await invited.send(Invitation, { email: 'ada@example.com' });
      await invited.send(Invitation, { email: 'bob@example.com' });
    });
    expect(records).toHaveSent(invited, { sender: Invitation, email: expect.stringContaining('ada') });
    expect(records).not.toHaveSent(invited, { email: 'eve@example.com' });
    expect(records).toHaveSentTimes(invited, 2, { sender: Invitation });
    expect(() => expect(records).toHaveSentTimes(invited, 1)).toThrow(/Expected invited to be sent 1 time, but it was sent 2 times/);
  });

  test('as asymmetric matchers too', async () => {
    const { records } = await captureSignals(() => invited.send(Invitation, { email: 'ada@example.com' }));
    expect({ records }).toEqual({ records: expect.toHaveSent(invited, { email: 'ada@example.com' }) });
    expect({ records }).not.toEqual({ records: expect.toHaveSent(invited, { email: 'bob@example.com' }) });
  });
});

test('what ran is the built package (dist/, loaded by Node as a user\'s dependency would be), not src/', () => {
  const loaded = Object.keys(createRequire(import.meta.url).cache).map((file) => path.relative(root, file));
  expect(loaded).toContain(path.join('dist', 'matchers.js'));
  expect(loaded).toContain(path.join('dist', 'signals', 'signal.js'));
  expect(loaded.filter((file) => file.startsWith(`src${path.sep}`))).toEqual([]);
});
