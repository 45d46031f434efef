// 1,000,000 connect/disconnect cycles in a plain Node process (run by memory.reliability.ts with
// --expose-gc), printing what it measured as one JSON line. A process of its own because under
// jest every connect() pays for source-map-support formatting the stack that connectedAt is read
// from (~10x slower); here the library runs as compiled JavaScript would, without source maps.
'use strict';
const path = require('node:path');
require('./ts-hook.cjs'); // .ts files transpiled as ts-node --transpile-only would (cached)

if (typeof global.gc !== 'function') {
  process.stdout.write(`${JSON.stringify({ error: 'connect-cycles.cjs needs node --expose-gc' })}\n`);
  process.exit(1);
}

require('reflect-metadata');
const { Signal, postSave, preSave, receiver } = require(path.join(__dirname, '..', '..', 'src'));

const CYCLES = Number(process.argv[2] ?? 1_000_000);

class Account {}
const plain = new Signal({ name: 'accountChanged' });
// Receivers that stay connected throughout, so that every cycle adds to and removes from a real list.
const stay = [];
for (let i = 0; i < 5; i++) {
  const fn = () => undefined;
  stay.push(fn);
  plain.connect(fn, { sender: Account });
  postSave.connect(fn, { sender: 'Account', phase: i % 2 ? 'commit' : 'transaction' });
}

const fixed = () => undefined;
let sends = 0;
function cycle(i) {
  switch (i & 3) {
    case 0: {
      // the disconnect function connect() returns
      plain.connect(fixed, { sender: Account })();
      break;
    }
    case 1: {
      // a model signal, phase and batch, disconnect(receiver, { sender })
      postSave.connect(fixed, { sender: Account, phase: 'commit', batch: true });
      postSave.disconnect(fixed, { sender: Account });
      break;
    }
    case 2: {
      // a new closure each time, identified by a dispatchUid
      const uid = `cycle:${i & 1023}`;
      preSave.connect(() => i, { sender: Account, dispatchUid: uid });
      preSave.disconnect(undefined, { sender: Account, dispatchUid: uid });
      break;
    }
    default: {
      // receiver() with a weak closure
      const fn = receiver(plain, { sender: Account, weak: true }, () => i);
      plain.disconnect(fn, { sender: Account });
    }
  }
  if (i % 1000 === 0) {
    sends++;
    void plain.send(Account, { n: i });
  }
}

async function heap() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  global.gc();
  return process.memoryUsage().heapUsed;
}

(async () => {
  for (let i = 0; i < 20_000; i++) cycle(i); // warm-up: caches, JIT
  const before = await heap();
  const startedAt = performance.now();
  for (let i = 0; i < CYCLES; i++) cycle(i);
  const ms = performance.now() - startedAt;
  const after = await heap();
  const left = plain.receivers().length + postSave.receivers().length + preSave.receivers().length;
  process.stdout.write(`${JSON.stringify({ cycles: CYCLES, ms, heapBefore: before, heapAfter: after, sends, receiversLeft: left, expectedLeft: 10 })}\n`);
})().catch((error) => {
  process.stdout.write(`${JSON.stringify({ error: String(error && error.stack || error) })}\n`);
  process.exit(1);
});
