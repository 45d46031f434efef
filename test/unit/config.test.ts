import { Signal, configureSignals, type FailureReport } from '../../src';

class User {}

afterEach(() => {
  configureSignals({ logger: null, onReceiverError: null });
  jest.restoreAllMocks();
});

async function failOnce(): Promise<void> {
  const signal = new Signal<{ n: number }>({ name: 'configured' });
  signal.connect(function failing() {
    throw new Error('boom');
  });
  await signal.sendRobust(User, { n: 1 });
}

describe('configureSignals', () => {
  test('rejects unknown keys and changes nothing', async () => {
    const messages: string[] = [];
    configureSignals({ logger: { error: (m) => void messages.push(m) } });
    expect(() => configureSignals({ loger: null } as never)).toThrow(TypeError);
    expect(() => configureSignals({ logger: null, onError: () => undefined } as never)).toThrow(
      'configureSignals(): unknown option "onError" (known: logger, onReceiverError, traceValues, logErrorMessages, maxReceiversPerCallSite)',
    );
    // The logger is still the one set before: the bad calls changed nothing, not even their valid keys.
    await failOnce();
    expect(messages).toHaveLength(1);
  });

  test.each([
    ['a function', () => undefined],
    ['an object without error()', { log: () => undefined }],
    ['a string', 'console'],
  ])('rejects a logger that is %s', (_label, logger) => {
    expect(() => configureSignals({ logger: logger as never })).toThrow(/"logger" must be an object with an error\(message, report\) method, or null/);
  });

  test('rejects an onReceiverError that is not a function', () => {
    expect(() => configureSignals({ onReceiverError: 'log' as never })).toThrow('configureSignals(): "onReceiverError" must be a function or null');
  });

  test('keys left out keep their value; logger: null restores console.error', async () => {
    const messages: string[] = [];
    const reports: FailureReport[] = [];
    configureSignals({ logger: { error: (m) => void messages.push(m) } });
    configureSignals({ onReceiverError: (r) => void reports.push(r) });
    await failOnce();
    expect(messages).toHaveLength(1);
    expect(reports).toHaveLength(1);

    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    configureSignals({ logger: null });
    await failOnce();
    expect(messages).toHaveLength(1);
    expect(printed).toHaveBeenCalledTimes(1);
    expect(printed.mock.calls[0][0]).toMatch(/^typeorm-signals: receiver failing \(connected at .*config\.test\.ts:\d+\) of signal "configured" failed/);
    expect(reports).toHaveLength(2);

    configureSignals({ onReceiverError: null });
    await failOnce();
    expect(reports).toHaveLength(2);
  });
});
