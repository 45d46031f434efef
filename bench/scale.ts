/**
 * `npm run bench:scale`: does the plugin's cost per row stay flat from 1,000 to 100,000 rows, and
 * what does deferred work hold in memory until COMMIT?
 *
 * One transaction saves N users in chunks of 1,000 (`manager.save(User, chunk)`), with three
 * receivers connected: a per-row postSave receiver in the 'transaction' phase, a batch receiver
 * in the 'transaction' phase, and a per-row receiver in the 'commit' phase (queued until COMMIT).
 * The same transaction on a DataSource without the plugin runs next to it, interleaved, so the
 * ratio at each N shows the plugin's share whatever TypeORM itself does with N.
 *
 * Memory: at the end of the transaction, just before COMMIT, a forced GC and heapUsed; the same
 * with the commit-phase receiver left out. Their difference over N is what one queued row of
 * deferred work holds (the users are reachable in both readings, so they are in neither
 * difference). After COMMIT the users are dropped and a forced GC runs again: what is still held
 * over the baseline taken before they were built is what the write left behind.
 *
 *   npm run bench:scale
 *   SCALE_SIZES=1000,10000 SCALE_ROUNDS=3 npm run bench:scale     (quick look)
 *
 * Results: printed, and written to bench/scale-results.json.
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { postSave, type Disconnect } from '../src';
import { User } from '../src/example/entities';
import { median } from './stats';
import { createDatabase, dropDatabases, settleGc, startServer } from './server';
import { newUsers, openDataSource, truncate, usePluginExecute } from './variants';

const SIZES = (process.env.SCALE_SIZES ?? '1000,10000,100000').split(',').map(Number);
const CHUNK = 1000;
/** Measured rounds per N (after one warm-up round at the smallest N). */
const ROUNDS = (n: number) => Number(process.env.SCALE_ROUNDS ?? (n >= 100000 ? 3 : n >= 10000 ? 5 : 9));

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('bench/scale.ts needs --expose-gc (npm run bench:scale passes it)');

const counts = { row: 0, batchItems: 0, commit: 0 };

function connectReceivers(withCommitPhase: boolean): Disconnect[] {
  const offs = [
    postSave.connect(() => void counts.row++, { sender: User }),
    postSave.connect(({ items }) => void (counts.batchItems += items.length), { sender: User, batch: true }),
  ];
  if (withCommitPhase) offs.push(postSave.connect(() => void counts.commit++, { sender: User, phase: 'commit' }));
  return offs;
}

async function saveInChunks(manager: EntityManager, users: User[]): Promise<void> {
  for (let i = 0; i < users.length; i += CHUNK) await manager.save(User, users.slice(i, i + CHUNK));
}

interface Timed {
  wall: number;
  cpu: number;
}

/** One timed transaction of n users; with `plugin`, the three receivers are connected. */
async function timeOnce(ds: DataSource, n: number, plugin: boolean): Promise<Timed> {
  await truncate(ds);
  usePluginExecute(plugin);
  const users = newUsers(n, 'x');
  const offs = plugin ? connectReceivers(true) : [];
  counts.row = counts.batchItems = counts.commit = 0;
  await settleGc();
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  try {
    await ds.transaction((manager) => saveInChunks(manager, users));
  } finally {
    offs.forEach((off) => off());
  }
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  if (plugin && (counts.row !== n || counts.batchItems !== n || counts.commit !== n)) {
    throw new Error(`n=${n}: receivers ran ${JSON.stringify(counts)} times, expected ${n} each`);
  }
  const [{ count }] = (await ds.query('SELECT count(*)::int AS count FROM "users"')) as Array<{ count: number }>;
  if (count !== n) throw new Error(`n=${n}: ${count} users in the table, expected ${n}`);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

interface HeapReading {
  /** heapUsed before COMMIT minus the baseline, bytes. */
  beforeCommit: number;
  /** heapUsed after COMMIT, the users dropped, minus the baseline, bytes. */
  afterCommit: number;
}

/** Heap over the baseline just before COMMIT and after it, forced GC each time. */
async function heapOnce(ds: DataSource, n: number, withCommitPhase: boolean): Promise<HeapReading> {
  await truncate(ds);
  usePluginExecute(true);
  const offs = connectReceivers(withCommitPhase);
  counts.row = counts.batchItems = counts.commit = 0;
  let beforeCommit = 0;
  gc!();
  const baseline = process.memoryUsage().heapUsed;
  let users: User[] | undefined = newUsers(n, 'h');
  try {
    await ds.transaction(async (manager) => {
      await saveInChunks(manager, users!);
      gc!();
      beforeCommit = process.memoryUsage().heapUsed - baseline;
    });
  } finally {
    offs.forEach((off) => off());
  }
  if (withCommitPhase && counts.commit !== n) throw new Error(`n=${n}: the commit-phase receiver ran ${counts.commit} times`);
  // The users (and whatever the library keeps per entity, weakly) go now: what is still held is
  // what the write left behind.
  users = undefined;
  gc!();
  const afterCommit = process.memoryUsage().heapUsed - baseline;
  return { beforeCommit, afterCommit };
}

interface SizeResult {
  n: number;
  rounds: number;
  plainCpuUsPerRow: number;
  pluginCpuUsPerRow: number;
  plainWallUsPerRow: number;
  pluginWallUsPerRow: number;
  cpuRatio: number;
  cpuRatioRange: [number, number];
  deferredBytesPerRow: number;
  heldAfterCommitBytes: number;
}

async function main(): Promise<void> {
  const server = await startServer();
  const loadStart = os.loadavg();
  const results: SizeResult[] = [];
  try {
    const plain = await openDataSource(await createDatabase(server.url, 'scale_plain'), 'none');
    const signals = await openDataSource(await createDatabase(server.url, 'scale_signals'), 'signals');
    try {
      // Warm-up, untimed: enough transactions for the JIT to settle on both sides.
      for (let i = 0; i < 5; i++) {
        await timeOnce(plain, 10000, false);
        await timeOnce(signals, 10000, true);
      }
      for (const n of SIZES) {
        const rounds = ROUNDS(n);
        const p: Timed[] = [];
        const s: Timed[] = [];
        const ratios: number[] = [];
        for (let r = 0; r < rounds; r++) {
          // Interleaved, order alternating, so load drift hits both sides alike.
          const pair = r % 2 ? [await timeOnce(signals, n, true), await timeOnce(plain, n, false)].reverse() : [await timeOnce(plain, n, false), await timeOnce(signals, n, true)];
          p.push(pair[0]);
          s.push(pair[1]);
          ratios.push(pair[1].cpu / pair[0].cpu);
        }
        // Heap readings: the median of 3 each (GC leaves some 100 KB of noise, which matters at small N).
        const heap = async (withCommitPhase: boolean) => {
          const readings = [];
          for (let i = 0; i < 3; i++) readings.push(await heapOnce(signals, n, withCommitPhase));
          return { beforeCommit: median(readings.map((h) => h.beforeCommit)), afterCommit: median(readings.map((h) => h.afterCommit)) };
        };
        const heapWith = await heap(true);
        const heapWithout = await heap(false);
        const us = (ms: number) => (ms * 1000) / n;
        const result: SizeResult = {
          n,
          rounds,
          plainCpuUsPerRow: us(median(p.map((t) => t.cpu))),
          pluginCpuUsPerRow: us(median(s.map((t) => t.cpu))),
          plainWallUsPerRow: us(median(p.map((t) => t.wall))),
          pluginWallUsPerRow: us(median(s.map((t) => t.wall))),
          cpuRatio: median(s.map((t) => t.cpu)) / median(p.map((t) => t.cpu)),
          cpuRatioRange: [Math.min(...ratios), Math.max(...ratios)],
          deferredBytesPerRow: (heapWith.beforeCommit - heapWithout.beforeCommit) / n,
          heldAfterCommitBytes: heapWith.afterCommit,
        };
        results.push(result);
        process.stderr.write(`n=${n} done: ${JSON.stringify(result)}\n`);
      }
    } finally {
      await plain.destroy();
      await signals.destroy();
    }
  } finally {
    await dropDatabases(server.url);
    await server.stop();
  }
  const loadEnd = os.loadavg();
  print(results, loadStart, loadEnd);
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, loadavgStart: loadStart, loadavgEnd: loadEnd },
    chunk: CHUNK,
    results,
  };
  fs.writeFileSync(path.join(__dirname, 'scale-results.json'), JSON.stringify(out, null, 2) + '\n');
}

function print(results: SizeResult[], loadStart: number[], loadEnd: number[]): void {
  const f1 = (x: number) => x.toFixed(1);
  const first = results[0];
  console.log(`\nsave() of N users in chunks of ${CHUNK}, one transaction; plugin: a per-row, a batch and a commit-phase receiver`);
  console.log(`load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} -> ${loadEnd.map((l) => l.toFixed(2)).join(' ')}\n`);
  console.log('      N  rounds  CPU µs/row plain  CPU µs/row plugin  CPU ratio (rounds)      plugin CPU/row vs smallest N  deferred bytes/row  held after COMMIT');
  for (const r of results) {
    console.log(
      [
        r.n.toLocaleString('en-US').padStart(7),
        String(r.rounds).padStart(6),
        f1(r.plainCpuUsPerRow).padStart(16),
        f1(r.pluginCpuUsPerRow).padStart(17),
        `${r.cpuRatio.toFixed(2)}x (${r.cpuRatioRange.map((x) => x.toFixed(2)).join('-')})`.padStart(22),
        `${(r.pluginCpuUsPerRow / first.pluginCpuUsPerRow).toFixed(2)}x`.padStart(28),
        f1(r.deferredBytesPerRow).padStart(18),
        `${(r.heldAfterCommitBytes / 1024).toFixed(0)} KiB`.padStart(17),
      ].join('  '),
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
