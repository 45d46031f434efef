import createDebug from 'debug';
import { Signal, configureSignals } from '../../src';
import { captureDebugLines } from '../helpers/debug-lines';

class User {}

const SECRET = 'hunter2-do-not-trace';

describe('DEBUG=typeorm-signals tracing', () => {
  const lines = captureDebugLines();

  beforeAll(() => {
    configureSignals({ logger: { error: () => undefined } });
  });

  afterAll(() => {
    configureSignals({ logger: null });
  });

  test('nothing is traced while the namespace is off', async () => {
    createDebug.disable();
    const signal = new Signal<{ password: string }>({ name: 'passwordChanged' });
    signal.connect(function notifyUser() {});
    await signal.send(User, { password: SECRET });
    expect(lines).toEqual([]);
  });

  test('one line per receiver naming signal, sender, receiver, phase and outcome, without payload values', async () => {
    createDebug.enable('typeorm-signals');
    const signal = new Signal<{ password: string }>({ name: 'passwordChanged' });
    signal.connect(function notifyUser() {});
    signal.connect(async function auditTrail() {
      throw new Error('audit down');
    });
    await signal.sendRobust(User, { password: SECRET });
    await expect(signal.send('Account', { password: SECRET })).rejects.toThrow('audit down');

    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/typeorm-signals.*passwordChanged sender=User receiver=notifyUser phase=send ok in \d+\.\d{3}ms/);
    expect(lines[1]).toMatch(/passwordChanged sender=User receiver=auditTrail phase=send threw in \d+\.\d{3}ms/);
    expect(lines[2]).toMatch(/passwordChanged sender="Account" receiver=notifyUser phase=send ok/);
    expect(lines[3]).toMatch(/passwordChanged sender="Account" receiver=auditTrail phase=send threw/);
    for (const line of lines) expect(line).not.toContain(SECRET);
  });
});
