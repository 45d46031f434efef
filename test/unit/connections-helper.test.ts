// test/helpers/connections.ts: what listen() keeps is disconnected before the next test starts.
import { Signal } from '../../src';
import { connections } from '../helpers/connections';

class Sender {}
const signal = new Signal<{ n: number }>({ name: 'connectionsHelper' });
const { listen, disconnectAll } = connections();

test('listen() keeps the connection for the rest of the test and returns it', () => {
  const off = listen(signal.connect(() => undefined, { sender: Sender }));
  listen(signal.connect(() => undefined, { sender: 'other' }));
  expect(signal.hasListeners(Sender)).toBe(true);
  expect(typeof off[Symbol.dispose]).toBe('function');
});

test('the afterEach disconnected both', () => {
  expect(signal.receivers()).toEqual([]);
});

test('disconnectAll() disconnects at once, newest first', () => {
  const order: string[] = [];
  listen(() => (order.push('first'), true));
  listen(() => (order.push('second'), true));
  disconnectAll();
  expect(order).toEqual(['second', 'first']);
});
