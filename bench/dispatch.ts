/**
 * Dispatch cost of Signal.send() next to the alternatives, in one process run.
 *
 *   npm run bench:dispatch              (5 measured rounds after a warm-up round)
 *   BENCH_ROUNDS=9 BENCH_TIME=500 npm run bench:dispatch
 *   BENCH_ONLY=direct.1,send.1 npm run bench:dispatch   (a subset; results file not written)
 *
 * Every row is one tinybench task whose function performs BATCH operations in a loop, so the
 * timer and tinybench's own per-call await are spread over BATCH ops instead of dominating a
 * 50 ns figure. A round is one tinybench run of every task; the figure for a row is the median,
 * over the measured rounds, of that round's median per-batch latency divided by BATCH. All rows
 * use the same receiver function, the same payload object and the same loop, so the ratios
 * compare like with like. Results are also written to bench/dispatch-results.json.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execSync } from 'node:child_process';
import { Signal } from '../src';
import { median as medianOf } from './stats';

const BATCH = 500;
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 5);
const TIME_MS = positiveInt(process.env.BENCH_TIME, 300);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;

interface Payload {
  n: number;
}

// The receiver every row runs: an async function doing (almost) nothing, so what is measured is
// the dispatch around it.
let sink = 0;
function makeReceiver(): (args: Payload) => Promise<number> {
  return async (args) => {
    sink += args.n;
    return args.n;
  };
}
const receiver = makeReceiver();

class Target {}
class Other {}
const payload: Payload = { n: 1 };

/** Rows in the order they are printed; `run` performs one operation. */
interface Row {
  key: string;
  label: string;
  run: () => unknown;
  sync?: boolean;
}

async function main(): Promise<void> {
  // tinybench and emittery are ESM-only: load them with a real import().
  const { Bench } = (await dynamicImport('tinybench')) as typeof import('tinybench');
  const { default: Emittery } = (await dynamicImport('emittery')) as typeof import('emittery');

  // A signal whose only receivers are for another sender: the miss rows look up a sender that
  // has none (a cached Map hit on an empty list).
  const missSignal = new Signal<Payload>({ name: 'miss' });
  missSignal.connect(receiver, { sender: Other });

  const one = new Signal<Payload>({ name: 'one' });
  one.connect(receiver, { sender: Target });

  const ten = new Signal<Payload>({ name: 'ten' });
  for (let i = 0; i < 10; i++) ten.connect(makeReceiver(), { sender: Target });

  // The same one receiver for Target, next to receivers of 1 / 1,000 other senders.
  const fewOthers = new Signal<Payload>({ name: 'few-others' });
  fewOthers.connect(receiver, { sender: Target });
  fewOthers.connect(makeReceiver(), { sender: class Other0 {} });
  const manyOthers = new Signal<Payload>({ name: 'many-others' });
  manyOthers.connect(receiver, { sender: Target });
  for (let i = 0; i < 1000; i++) manyOthers.connect(makeReceiver(), { sender: class {} });

  // The same again, but sends alternate between two senders that each have the receiver: every
  // send misses the signal's last-sender cache and looks its sender up in the Map.
  class Target2 {}
  const fewOthersAlt = new Signal<Payload>({ name: 'few-others-alt' });
  const manyOthersAlt = new Signal<Payload>({ name: 'many-others-alt' });
  for (const s of [fewOthersAlt, manyOthersAlt]) {
    s.connect(receiver, { sender: Target });
    s.connect(receiver, { sender: Target2 });
  }
  fewOthersAlt.connect(makeReceiver(), { sender: class Other0 {} });
  for (let i = 0; i < 1000; i++) manyOthersAlt.connect(makeReceiver(), { sender: class {} });
  let flip = false;
  const alternate = (s: Signal<Payload>) => {
    flip = !flip;
    return flip ? s.send(Target, payload) : s.send(Target2, payload);
  };

  const em1 = new Emittery();
  em1.on('x', receiver as unknown as (data: Payload) => Promise<void>);
  const em10 = new Emittery();
  for (let i = 0; i < 10; i++) em10.on('x', makeReceiver() as unknown as (data: Payload) => Promise<void>);

  // EventEmitter does not await listeners: each listener hands its promise over, and the caller
  // awaits it (for 10 listeners, awaits the 10 promises in order; they were started together).
  let last: Promise<number> | undefined;
  const ee1 = new EventEmitter();
  ee1.on('x', (data: Payload) => {
    last = receiver(data);
  });
  const pending: Promise<number>[] = [];
  const ee10 = new EventEmitter();
  for (let i = 0; i < 10; i++) {
    const fn = makeReceiver();
    ee10.on('x', (data: Payload) => {
      pending.push(fn(data));
    });
  }
  const tenReceivers = Array.from({ length: 10 }, () => makeReceiver());
  // What the signal hands a receiver, built once: the direct rows do not pay for it.
  const directArgs = Object.freeze({ ...payload, signal: one, sender: Target });

  const allRows: Row[] = [
    { key: 'hasListeners.miss', label: 'hasListeners(sender), no receiver for it', run: () => missSignal.hasListeners(Target), sync: true },
    { key: 'send.0', label: 'send, 0 receivers', run: () => missSignal.send(Target, payload) },
    { key: 'direct.1', label: 'await receiver(args) directly', run: () => receiver(directArgs) },
    { key: 'send.1', label: 'send, 1 async receiver', run: () => one.send(Target, payload) },
    // The least any API resolving to [receiver, result] pairs does: one then() on the receiver's
    // promise, so a second microtask, and no copy of the payload.
    { key: 'floor.1', label: 'await receiver(args).then(v => [[receiver, v]])', run: () => receiver(directArgs).then((v) => [[receiver, v]]) },
    {
      key: 'args.copy',
      label: 'the frozen args copy alone (Object.assign + freeze)',
      sync: true,
      run: () => {
        const args = Object.assign({} as Record<string, unknown>, payload);
        args.signal = one;
        args.sender = Target;
        return Object.freeze(args);
      },
    },
    { key: 'emittery.1', label: 'emittery.emitSerial, 1 async listener', run: () => em1.emitSerial('x', payload) },
    {
      key: 'ee.1',
      label: 'EventEmitter.emit + await listener promise, 1',
      run: () => {
        ee1.emit('x', payload);
        return last;
      },
    },
    {
      key: 'direct.10',
      label: 'await 10 receivers directly, in turn',
      run: async () => {
        for (let i = 0; i < tenReceivers.length; i++) await tenReceivers[i](directArgs);
      },
    },
    { key: 'send.10', label: 'send, 10 async receivers', run: () => ten.send(Target, payload) },
    { key: 'emittery.10', label: 'emittery.emitSerial, 10 async listeners', run: () => em10.emitSerial('x', payload) },
    {
      key: 'ee.10',
      label: 'EventEmitter.emit + await 10 listener promises',
      run: async () => {
        ee10.emit('x', payload);
        for (let i = 0; i < pending.length; i++) await pending[i];
        pending.length = 0;
      },
    },
    { key: 'send.1.others1', label: 'send, 1 receiver; 1 other sender has receivers', run: () => fewOthers.send(Target, payload) },
    { key: 'send.1.others1000', label: 'send, 1 receiver; 1,000 other senders have receivers', run: () => manyOthers.send(Target, payload) },
    { key: 'send.1.alt.others1', label: 'same, 2 senders alternating; 1 other sender', run: () => alternate(fewOthersAlt) },
    { key: 'send.1.alt.others1000', label: 'same, 2 senders alternating; 1,000 other senders', run: () => alternate(manyOthersAlt) },
  ];

  const rows = ONLY ? allRows.filter((r) => ONLY.has(r.key)) : allRows;
  if (rows.length === 0) throw new Error(`BENCH_ONLY matches no row (rows: ${allRows.map((r) => r.key).join(', ')})`);

  // A fresh Bench per round (a Bench keeps its first results); the functions, and so the
  // optimized code, are shared by all rounds.
  const makeBench = () => {
  const bench = new Bench({ time: TIME_MS, warmupTime: 100, iterations: 32 });
  for (const row of rows) {
    const op = row.run;
    if (row.sync) {
      bench.add(row.key, () => {
        let hits = 0;
        for (let i = 0; i < BATCH; i++) if (op()) hits++;
        sink += hits;
      }, { async: false });
    } else {
      bench.add(row.key, async () => {
        for (let i = 0; i < BATCH; i++) await op();
      }, { async: true });
    }
  }
  return bench;
  };

  // Round 0 warms the optimizer up and is discarded.
  const perRound: Record<string, number[]> = Object.fromEntries(rows.map((r) => [r.key, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    const bench = makeBench();
    await bench.run();
    if (round === 0) continue;
    for (const task of bench.tasks) {
      const result = task.result as { state: string; latency?: { p50: number }; error?: unknown };
      if (result.state !== 'completed' || !result.latency) throw new Error(`task ${task.name}: ${result.state} ${String(result.error ?? '')}`);
      perRound[task.name].push((result.latency.p50 * 1e6) / BATCH);
    }
    process.stderr.write(`round ${round}/${ROUNDS} done\n`);
  }

  const median: Record<string, number> = {};
  for (const row of rows) median[row.key] = medianOf(perRound[row.key]);

  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
  const ratioDefs: Array<[num: string, den: string, target: string, ok: (r: number) => boolean]> = [
    ['send.1', 'direct.1', '<= 3.0', (r) => r <= 3.0],
    ['send.10', 'direct.10', '(info)', () => true],
    ['send.1', 'emittery.1', '<= 0.2 (5x faster)', (r) => r <= 0.2],
    ['send.10', 'emittery.10', '< 1 (faster)', (r) => r < 1],
    ['send.1.others1000', 'send.1.others1', '<= 1.2', (r) => r <= 1.2],
    ['send.1.alt.others1000', 'send.1.alt.others1', '<= 1.2', (r) => r <= 1.2],
    ['floor.1', 'direct.1', '(info)', () => true],
  ];
  const ratios = ratioDefs
    .filter(([num, den]) => num in median && den in median)
    .map(([num, den, target, ok]) => {
      const value = median[num] / median[den];
      return { key: `${num} / ${den}`, value, target, ok: ok(value) };
    });

  console.log(`\nSignal dispatch, ns/op: median of ${ROUNDS} rounds (each the median of ${BATCH}-op batches, ${TIME_MS} ms per row)`);
  console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadavg.join(' ')}\n`);
  const labelWidth = Math.max(...rows.map((r) => r.label.length));
  console.log(`${'row'.padEnd(labelWidth)}  ${'ns/op'.padStart(8)}   rounds`);
  for (const row of rows) {
    const rounds = perRound[row.key].map((v) => v.toFixed(0)).join(' ');
    console.log(`${row.label.padEnd(labelWidth)}  ${median[row.key].toFixed(1).padStart(8)}   [${rounds}]`);
  }
  console.log('');
  for (const r of ratios) {
    console.log(`${r.key.padEnd(44)} ${r.value.toFixed(2).padStart(6)}   target ${r.target}${r.target === '(info)' ? '' : r.ok ? '  ok' : '  MISSED'}`);
  }

  const out = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine,
    settings: { rounds: ROUNDS, batch: BATCH, timePerRowMs: TIME_MS, statistic: 'median over rounds of the per-round median batch latency / batch' },
    rows: rows.map((r) => ({ key: r.key, label: r.label, nsPerOp: round1(median[r.key]), rounds: perRound[r.key].map(round1) })),
    ratios: ratios.map((r) => ({ ...r, value: Number(r.value.toFixed(3)) })),
  };
  if (!ONLY) fs.writeFileSync(path.join(__dirname, 'dispatch-results.json'), JSON.stringify(out, null, 2) + '\n');
  if (sink === -1) console.log(sink); // keeps the receivers' work observable
}

function dynamicImport(specifier: string): Promise<unknown> {
  // TypeScript compiles import() to require() under module=commonjs; keep a real import().
  return (new Function('s', 'return import(s)') as (s: string) => Promise<unknown>)(specifier);
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function gitCommit(): string | undefined {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: __dirname, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
