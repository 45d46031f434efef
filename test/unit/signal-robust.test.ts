import { Signal, SignalsError, configureSignals, type FailureReport } from '../../src';

class User {}

const SECRET = 'hunter2-do-not-log';

afterEach(() => {
  configureSignals({ logger: null, onReceiverError: null });
  jest.restoreAllMocks();
});

/** A logger that records what it is given, and silences console.error for the test. */
function recordingLogger() {
  const lines: Array<{ message: string; report: FailureReport }> = [];
  configureSignals({ logger: { error: (message, report) => void lines.push({ message, report }) } });
  return lines;
}

describe('sendRobust', () => {
  test('calls every receiver and returns [receiver, result or Error] pairs', async () => {
    recordingLogger();
    const signal = new Signal<{ n: number }>({ name: 'robust' });
    const boom = new Error('boom');
    const calls: string[] = [];
    const ok = ({ n }: { n: number }) => {
      calls.push('ok');
      return n;
    };
    const fails = () => {
      calls.push('fails');
      throw boom;
    };
    const failsLater = async () => {
      calls.push('failsLater');
      await new Promise((resolve) => setTimeout(resolve, 1));
      throw new RangeError('later');
    };
    const last = async () => {
      calls.push('last');
      return 'done';
    };
    signal.connect(ok);
    signal.connect(fails);
    signal.connect(failsLater);
    signal.connect(last);
    const results = await signal.sendRobust(User, { n: 7 });
    expect(calls).toEqual(['ok', 'fails', 'failsLater', 'last']);
    expect(results.map(([r]) => r)).toEqual([ok, fails, failsLater, last]);
    expect(results[0][1]).toBe(7);
    expect(results[1][1]).toBe(boom);
    expect(results[2][1]).toBeInstanceOf(RangeError);
    expect(results[3][1]).toBe('done');
  });

  test('wraps a non-Error throw in a SignalsError whose cause is the thrown value', async () => {
    recordingLogger();
    const signal = new Signal<{ n: number }>({ name: 'robust' });
    const thrower = function throwsString() {
      throw 'plain string';
    };
    signal.connect(thrower);
    const [[receiverFn, error]] = await signal.sendRobust(User, { n: 1 });
    expect(receiverFn).toBe(thrower);
    expect(error).toBeInstanceOf(SignalsError);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('SignalsError');
    expect((error as Error).message).toBe('Signal "robust": receiver throwsString threw a non-Error value (string)');
    expect((error as Error).cause).toBe('plain string');
  });

  test('handles a rejected non-native thenable', async () => {
    recordingLogger();
    const signal = new Signal<{ n: number }>({ name: 'robust' });
    const calls: string[] = [];
    const thenable = () => ({
      then(_resolve: (v: unknown) => void, reject: (e: unknown) => void) {
        reject('x');
      },
    });
    signal.connect(thenable);
    signal.connect(() => void calls.push('after'));
    const results = await signal.sendRobust(User, { n: 1 });
    expect(results[0][0]).toBe(thenable);
    expect(results[0][1]).toBeInstanceOf(SignalsError);
    expect((results[0][1] as Error).cause).toBe('x');
    expect(calls).toEqual(['after']);
  });

  test('a resolved non-native thenable gives its value', async () => {
    const signal = new Signal<{ n: number }>({ name: 'robust' });
    signal.connect(() => ({ then: (resolve: (v: unknown) => void) => resolve(42) }));
    expect((await signal.sendRobust(User, { n: 1 }))[0][1]).toBe(42);
    expect((await signal.send(User, { n: 1 }))[0][1]).toBe(42);
  });

  test('reports each failure to the configured logger with signal, receiver and sender names, never payload values', async () => {
    const lines = recordingLogger();
    const signal = new Signal<{ password: string }>({ name: 'passwordChanged' });
    signal.connect(function notifyUser({ password }) {
      throw new Error(`could not mail ${password}`);
    });
    signal.connect(async function auditTrail() {
      throw { password: SECRET };
    });
    signal.connect(() => 'fine');
    await signal.sendRobust(User, { password: SECRET });
    await signal.sendRobust('Account', { password: SECRET });

    // Where each receiver was connected, as receivers() has it: the lines above.
    const [notifyAt, auditAt] = signal.receivers().map((r) => r.connectedAt);
    expect(notifyAt).toMatch(new RegExp(`^${__filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+$`));
    expect(lines.map((l) => l.message)).toEqual([
      `typeorm-signals: receiver notifyUser (connected at ${notifyAt}) of signal "passwordChanged" failed for sender User (sendRobust): Error`,
      `typeorm-signals: receiver auditTrail (connected at ${auditAt}) of signal "passwordChanged" failed for sender User (sendRobust): SignalsError`,
      `typeorm-signals: receiver notifyUser (connected at ${notifyAt}) of signal "passwordChanged" failed for sender "Account" (sendRobust): Error`,
      `typeorm-signals: receiver auditTrail (connected at ${auditAt}) of signal "passwordChanged" failed for sender "Account" (sendRobust): SignalsError`,
    ]);
    expect(lines[0].report).toMatchObject({ signal: 'passwordChanged', receiver: 'notifyUser', sender: 'User', context: 'sendRobust' });
    expect(lines[0].report.error.message).toContain(SECRET); // the error itself is the logger's to show or not
    for (const { message, report } of lines) {
      expect(message).not.toContain(SECRET);
      const { error, ...names } = report;
      expect(JSON.stringify(names)).not.toContain(SECRET);
      expect(error).toBeInstanceOf(Error);
    }
  });

  test('the default logger (console.error) gets the names and never the payload values', async () => {
    const printed: unknown[][] = [];
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args));
    const signal = new Signal<{ password: string }>({ name: 'passwordChanged' });
    signal.connect(function notifyUser({ password }) {
      throw new Error(`could not mail ${password}`);
    }, { sender: User });
    await signal.sendRobust(User, { password: SECRET });
    expect(printed).toHaveLength(1);
    const text = printed[0].map(String).join(' ');
    expect(text).toContain('notifyUser');
    expect(text).toContain('"passwordChanged"');
    expect(text).toContain('User');
    expect(text).not.toContain(SECRET);
  });

  test('calls onReceiverError with the report after the logger', async () => {
    const order: string[] = [];
    const reports: FailureReport[] = [];
    configureSignals({
      logger: { error: () => void order.push('logger') },
      onReceiverError: (report) => {
        order.push('callback');
        reports.push(report);
      },
    });
    const signal = new Signal<{ n: number }>({ name: 'robust' });
    const boom = new Error('boom');
    signal.connect(function failing() {
      throw boom;
    });
    await signal.sendRobust(User, { n: 1 });
    expect(order).toEqual(['logger', 'callback']);
    expect(reports).toEqual([
      { signal: 'robust', receiver: 'failing', sender: 'User', context: 'sendRobust', errorClass: 'Error', connectedAt: signal.receivers()[0].connectedAt, error: boom },
    ]);
  });

  test('a throwing logger or callback does not break sendRobust', async () => {
    configureSignals({
      logger: {
        error() {
          throw new Error('logger down');
        },
      },
      onReceiverError() {
        throw new Error('callback down');
      },
    });
    const signal = new Signal<{ n: number }>({ name: 'robust' });
    const calls: string[] = [];
    signal.connect(() => {
      throw new Error('first');
    });
    signal.connect(() => void calls.push('second'));
    const results = await signal.sendRobust(User, { n: 1 });
    expect(calls).toEqual(['second']);
    expect((results[0][1] as Error).message).toBe('first');
  });

  test('send (not robust) reports nothing: the error reaches the caller instead', async () => {
    const lines = recordingLogger();
    const signal = new Signal<{ n: number }>({ name: 'plain' });
    signal.connect(() => {
      throw new Error('boom');
    });
    await expect(signal.send(User, { n: 1 })).rejects.toThrow('boom');
    expect(lines).toEqual([]);
  });

  test('with no receivers resolves to an empty list', async () => {
    const signal = new Signal<{ n: number }>({ name: 'robust' });
    await expect(signal.sendRobust(User, { n: 1 })).resolves.toEqual([]);
  });
});

describe('a receiver whose return value has a throwing then getter', () => {
  const hostile = () => ({
    get then(): never {
      throw new Error('then getter');
    },
  });

  test.each([1, 2])('send() with %i receiver(s) rejects instead of throwing synchronously', async (count) => {
    const signal = new Signal<{ n: number }>({ name: 'hostile' });
    signal.connect(hostile);
    if (count === 2) signal.connect(() => 'second');
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = signal.send('x', { n: 1 });
    }).not.toThrow();
    await expect(promise).rejects.toThrow('then getter');
  });

  test('sendRobust() records the failure and still calls the next receiver', async () => {
    configureSignals({ logger: { error: () => undefined } });
    try {
      const signal = new Signal<{ n: number }>({ name: 'hostile' });
      signal.connect(hostile);
      signal.connect(() => 'second');
      const results = await signal.sendRobust('x', { n: 1 });
      expect((results[0][1] as Error).message).toBe('then getter');
      expect(results[1][1]).toBe('second');
    } finally {
      configureSignals({ logger: null });
    }
  });
});
