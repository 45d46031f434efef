/**
 * Issue 14 item 4: connects that silently pile up or keep a stale function warn, as Node's
 * MaxListenersExceededWarning does: process.emitWarning, once per call site. The spy calls the
 * real emitWarning; it only records what the library emitted.
 */
import { Signal, configureSignals, postSave, receiver } from '../../src';

class User {}
class Post {}

let warnings: jest.SpyInstance;
beforeEach(() => {
  warnings = jest.spyOn(process, 'emitWarning');
});
afterEach(() => {
  warnings.mockRestore();
  configureSignals({ maxReceiversPerCallSite: 10 });
});

function emitted(code: string): string[] {
  return warnings.mock.calls.filter(([, options]) => (options as { code?: string } | undefined)?.code === code).map(([message]) => String(message));
}
const tooMany = () => emitted('TYPEORM_SIGNALS_MAX_RECEIVERS');
const skipped = () => emitted('TYPEORM_SIGNALS_DISPATCH_UID_KEPT');

/** A request handler that (wrongly) connects a new closure on every request: one call site. */
function handleRequest(signal: Signal<{ id: number }>, sender: Function | string, sent: number[], request: number): () => boolean {
  return signal.connect(({ id }) => void sent.push(request * 1000 + id), { sender });
}

describe('one call site connecting more receivers than the limit', () => {
  test('warns once, on the 11th receiver from that line, naming the signal, the sender, the line and the fixes', () => {
    const signal = new Signal<{ id: number }>({ name: 'userRegistered' });
    const sent: number[] = [];
    for (let request = 1; request <= 10; request++) handleRequest(signal, User, sent, request);
    expect(tooMany()).toEqual([]);
    handleRequest(signal, User, sent, 11);
    for (let request = 12; request <= 40; request++) handleRequest(signal, User, sent, request);
    const site = signal.receivers()[0].connectedAt;
    expect(site).toMatch(/connect-warnings\.test\.ts:\d+$/);
    expect(tooMany()).toEqual([
      `Possible receiver leak: 11 receivers, each a different function, are connected to signal "userRegistered" for sender User from one line, ${site}, ` +
        'without a dispatchUid (the limit is 10); each of them runs on every send. A connect() inside a request handler, a loop or a function called ' +
        'per test adds one every time: connect once at start-up, disconnect what you connected (connect() returns the disconnect function), or pass ' +
        'a dispatchUid so that a repeated connect is skipped. configureSignals({ maxReceiversPerCallSite }) changes the limit (0: no warning).',
    ]);
    expect(warnings.mock.calls.find(([, o]) => (o as { code?: string })?.code === 'TYPEORM_SIGNALS_MAX_RECEIVERS')![1]).toEqual({
      type: 'TypeormSignalsWarning',
      code: 'TYPEORM_SIGNALS_MAX_RECEIVERS',
    });
  });

  test('does not warn for receivers connected from different lines, per sender under the limit, or disconnected again', () => {
    const signal = new Signal<{ id: number }>({ name: 'many' });
    const sent: number[] = [];
    // Eleven receivers for User, each connected on its own line (an application's receivers).
    signal.connect(() => undefined, { sender: User });
    signal.connect(() => undefined, { sender: User });
    signal.connect(() => undefined, { sender: User });
    signal.connect(() => undefined, { sender: User });
    signal.connect(() => undefined, { sender: User });
    signal.connect(() => undefined, { sender: User });
    signal.connect(() => undefined, { sender: User });
    signal.connect(() => undefined, { sender: User });
    signal.connect(() => undefined, { sender: User });
    signal.connect(() => undefined, { sender: User });
    signal.connect(() => undefined, { sender: User });
    // Ten per sender from one line: under the limit for each.
    for (let request = 1; request <= 10; request++) handleRequest(signal, Post, sent, request);
    // A handler that disconnects what it connected, a hundred times.
    for (let request = 1; request <= 100; request++) handleRequest(signal, 'Comment', sent, request)();
    expect(tooMany()).toEqual([]);
  });

  test('dispatchUid connects do not count; the limit is configurable, and 0 turns the warning off', () => {
    const signal = new Signal<{ id: number }>({ name: 'configured' });
    for (let i = 0; i < 20; i++) signal.connect(() => undefined, { sender: User, dispatchUid: `uid-${i}` });
    expect(tooMany()).toEqual([]);

    configureSignals({ maxReceiversPerCallSite: 3 });
    const sent: number[] = [];
    for (let request = 1; request <= 4; request++) handleRequest(signal, Post, sent, request);
    expect(tooMany()).toEqual([expect.stringContaining('4 receivers, each a different function, are connected to signal "configured" for sender Post')]);
    expect(tooMany()[0]).toContain('(the limit is 3)');

    configureSignals({ maxReceiversPerCallSite: 0 });
    for (let request = 1; request <= 30; request++) handleRequest(signal, 'Other', sent, request);
    expect(tooMany()).toHaveLength(1);
  });

  test('model signals and receiver() count the same way; every-sender receivers are their own group', () => {
    const off: Array<() => boolean> = [];
    try {
      for (let i = 0; i < 11; i++) off.push(postSave.connect(() => undefined));
      expect(tooMany()).toEqual([expect.stringContaining('11 receivers, each a different function, are connected to signal "postSave" for every sender from one line')]);
      for (let i = 0; i < 11; i++) receiver(postSave, { sender: User, phase: 'commit' }, () => undefined);
      expect(tooMany()[1]).toContain('signal "postSave" for sender User from one line');
    } finally {
      off.forEach((disconnect) => disconnect());
      for (const r of postSave.receivers(User)) postSave.disconnect(r.receiver, { sender: User });
    }
  });

  test('a bad limit is a TypeError and changes nothing', () => {
    expect(() => configureSignals({ maxReceiversPerCallSite: -1 })).toThrow(
      'configureSignals(): "maxReceiversPerCallSite" must be a whole number >= 0 (0 turns the warning off), got -1',
    );
    expect(() => configureSignals({ maxReceiversPerCallSite: '10' as never })).toThrow(/got string/);
    expect(() => configureSignals({ maxReceiversPerCallSite: 2.5, logErrorMessages: true })).toThrow(/got 2\.5/);
    const signal = new Signal<{ id: number }>({ name: 'unchanged' });
    for (let request = 1; request <= 10; request++) handleRequest(signal, User, [], request);
    expect(tooMany()).toEqual([]);
  });
});

describe('a dispatchUid connect skipped although it brings another function', () => {
  /** Wires the receivers with their dependencies, as an app's start-up (or a test's set-up) does. */
  function wireReceivers(signal: Signal<{ id: number }>, mailer: { sent: number[] }) {
    return signal.connect(function sendWelcome({ id }) {
      mailer.sent.push(id);
    }, { sender: User, dispatchUid: 'welcome' });
  }

  test('warns once per call site, naming the kept function, both lines and the fix; the first function keeps running', async () => {
    const signal = new Signal<{ id: number }>({ name: 'userRegistered' });
    const first = { sent: [] as number[] };
    const second = { sent: [] as number[] };
    wireReceivers(signal, first);
    const keptAt = signal.receivers()[0].connectedAt;
    wireReceivers(signal, second);
    wireReceivers(signal, second);
    await signal.send(User, { id: 7 });
    expect([first.sent, second.sent]).toEqual([[7], []]);
    const [message, ...more] = skipped();
    expect(more).toEqual([]);
    expect(message).toBe(
      `Signal "userRegistered": connect() with dispatchUid "welcome" for sender User at ${keptAt} was skipped: that dispatchUid is already connected ` +
        `(at ${keptAt}) to another function, sendWelcome, which stays connected and keeps running; the function given here, sendWelcome, never runs. ` +
        'A dispatchUid keeps the first connection (as in Django), so after a hot reload or a re-wiring with new dependencies the old function is the ' +
        'one that runs: disconnect it first (userRegistered.disconnect(undefined, { dispatchUid: "welcome", sender: User })), then connect the new one.',
    );
  });

  test('the same function again (a module loaded twice) is not warned about', () => {
    const signal = new Signal<{ id: number }>({ name: 'same' });
    const fn = () => undefined;
    signal.connect(fn, { dispatchUid: 'x' });
    signal.connect(fn, { dispatchUid: 'x' });
    receiver(signal, { dispatchUid: 'x' }, fn);
    expect(skipped()).toEqual([]);
    receiver(signal, { dispatchUid: 'x' }, () => undefined);
    expect(skipped()).toEqual([expect.stringMatching(/^Signal "same": receiver\(\) with dispatchUid "x" for every sender at .* was skipped/)]);
    expect(skipped()[0]).toContain('same.disconnect(undefined, { dispatchUid: "x" })');
  });
});
