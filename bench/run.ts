/**
 * `npm run bench`: what typeorm-signals costs on a real PostgreSQL, next to plain TypeORM.
 *
 * Uses DATABASE_URL's server when it is set (it must allow CREATE DATABASE), otherwise starts a
 * throwaway embedded PostgreSQL (test/helpers/embedded-postgres.mjs) and stops it at the end.
 * Every variant has a DataSource of its own, with only its own subscribers, on a database of its
 * own whose schema comes from the example migrations; both tables are truncated before every
 * timed operation. The variants of a comparison are interleaved operation by operation (and
 * their order alternates between rounds), so load drift hits every side alike. After a warm-up
 * round, each figure is the median over the measured rounds of the round's median operation time.
 * Then bench/dispatch.ts runs in a child process and its ratios are included.
 *
 *   npm run bench
 *   BENCH_SIZES=1000 BENCH_ROUNDS=5 BENCH_REPS=1 BENCH_SKIP_DISPATCH=1 npm run bench   (quick look)
 *   BENCH_ONLY=a,b npm run bench                                                       (some comparisons)
 *   BENCH_SKIP_DURABLE=1 npm run bench                        (without bench/durable.ts, rows h to k)
 *
 * Results: printed as a table and written to bench/results.json (not with BENCH_ONLY).
 */
import 'reflect-metadata';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DataSource } from 'typeorm';
import { postSave } from '../src';
import { diagnosticsComparison } from './diagnostics';
import { writePathComparisons } from './write-paths';
import { createDatabase, dropDatabases, settleGc, startServer, withClient } from './server';
import { fmt, int, median, r2, r3 } from './stats';
import type { BenchResults, ComparisonResult, DispatchResults, Measured, RatioResult } from './results';
import {
  calls,
  openDataSource,
  saveUsers,
  saveUsersNoopReceiver,
  saveUsersNoopSubscriber,
  saveUsersWithHooks,
  signupBatchReceiver,
  signupByHand,
  signupByHandNoopSubscribers,
  signupWithReceivers,
  singleSaves,
  truncate,
  usePluginExecute,
  type Operation,
  type Subscribers,
} from './variants';

const SIZES = list(process.env.BENCH_SIZES, [1000, 10000]);
/** Measured rounds (after one warm-up round) and timed operations per variant per round, by N. */
const ROUNDS: Record<number, number> = { 1000: int(process.env.BENCH_ROUNDS, 9), 10000: int(process.env.BENCH_ROUNDS, 7) };
const REPS: Record<number, number> = { 1000: int(process.env.BENCH_REPS, 5), 10000: int(process.env.BENCH_REPS, 2) };
/** (d): single-user save() calls per timed operation (5 operations per round: 1,000 calls). */
const SINGLE_SAVES = int(process.env.BENCH_SINGLE_SAVES, 200);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;
const SKIP_DISPATCH = process.env.BENCH_SKIP_DISPATCH === '1';
const SKIP_DURABLE = process.env.BENCH_SKIP_DURABLE === '1';

export interface VariantDef {
  key: string;
  label: string;
  subscribers: Subscribers;
  op: Operation;
}

export interface ComparisonDef {
  id: string;
  title: string;
  /** Sizes to run; the op's n. */
  sizes: number[];
  rounds: (n: number) => number;
  reps: (n: number) => number;
  variants: VariantDef[];
  /** Ratios: numerator variant / denominator variant, with a target. */
  ratios: Array<{ num: string; den: string; target?: { op: '<=' | '>='; value: number; sizes?: number[] }; label: string; perCall?: boolean }>;
  /** What one operation is, for the table. */
  unit: (n: number) => string;
}

const plugin = (s: Subscribers) => s === 'signals';

const comparisons: ComparisonDef[] = [
  {
    id: 'a',
    title: 'SignalsSubscriber installed, no receivers vs. no plugin',
    sizes: SIZES,
    rounds: (n) => ROUNDS[n] ?? 5,
    reps: (n) => REPS[n] ?? 1,
    unit: (n) => `save([${fmt(n)} users])`,
    variants: [
      { key: 'plain', label: 'no plugin (plain TypeORM)', subscribers: 'none', op: saveUsers },
      { key: 'signals-idle', label: 'SignalsSubscriber, no receivers', subscribers: 'signals', op: saveUsers },
    ],
    ratios: [{ num: 'signals-idle', den: 'plain', label: 'idle plugin / no plugin', target: { op: '<=', value: 1.02 } }],
  },
  {
    // Runs before any receiver is dispatched to (see saveUsersWithHooks), so right after (a).
    id: 'a2',
    title: "process-wide cost of async hooks (enabled by the dispatcher's AsyncLocalStorage)",
    sizes: SIZES,
    rounds: (n) => ROUNDS[n] ?? 5,
    reps: (n) => REPS[n] ?? 1,
    unit: (n) => `save([${fmt(n)} users])`,
    variants: [
      { key: 'plain', label: 'no plugin, async hooks off', subscribers: 'none', op: saveUsers },
      { key: 'plain-hooks', label: 'no plugin, an AsyncLocalStorage enabled', subscribers: 'none', op: saveUsersWithHooks },
    ],
    ratios: [{ num: 'plain-hooks', den: 'plain', label: 'hooks on / off' }],
  },
  {
    id: 'b',
    title: 'per-row no-op postSave receiver vs. hand-written TypeORM subscriber',
    sizes: SIZES,
    rounds: (n) => ROUNDS[n] ?? 5,
    reps: (n) => REPS[n] ?? 1,
    unit: (n) => `save([${fmt(n)} users])`,
    variants: [
      { key: 'subscriber-noop', label: 'EntitySubscriber afterInsert no-op', subscribers: 'noop-subscriber', op: saveUsersNoopSubscriber },
      { key: 'receiver-noop', label: 'postSave no-op receiver (per row)', subscribers: 'signals', op: saveUsersNoopReceiver },
    ],
    ratios: [{ num: 'receiver-noop', den: 'subscriber-noop', label: 'receiver / subscriber', target: { op: '<=', value: 1.05 } }],
  },
  {
    id: 'c',
    title: 'signup: users + one profile each, in one transaction',
    sizes: SIZES,
    rounds: (n) => ROUNDS[n] ?? 5,
    reps: (n) => REPS[n] ?? 1,
    unit: (n) => `signup of ${fmt(n)} users`,
    variants: [
      { key: 'by-hand', label: 'by hand: save + one bulk profile INSERT', subscribers: 'none', op: signupByHand },
      { key: 'fair-floor', label: 'by hand + no-op EntitySubscriber on User and UserProfile', subscribers: 'noop-subscribers-both', op: signupByHandNoopSubscribers },
      { key: 'batch-receiver', label: 'batch receiver ensureProfileExists', subscribers: 'signals', op: signupBatchReceiver },
      { key: 'naive-subscriber', label: 'naive afterInsert: 1 INSERT per user', subscribers: 'naive-subscriber', op: signupWithReceivers(true) },
    ],
    ratios: [
      { num: 'batch-receiver', den: 'fair-floor', label: 'batch receiver / fair floor', target: { op: '<=', value: 1.05 } },
      { num: 'batch-receiver', den: 'by-hand', label: 'batch receiver / by hand', target: { op: '<=', value: 1.15 } },
      { num: 'fair-floor', den: 'by-hand', label: 'fair floor / by hand (what any subscriber costs)' },
      { num: 'naive-subscriber', den: 'batch-receiver', label: 'speed-up of batch receiver over naive', target: { op: '>=', value: 4 } },
    ],
  },
  {
    id: 'd',
    title: `commit-phase vs. transaction-phase receiver`,
    sizes: [SINGLE_SAVES],
    rounds: () => ROUNDS[1000] ?? 5,
    reps: () => REPS[1000] ?? 1,
    unit: (n) => `${fmt(n)} x save(user)`,
    variants: [
      { key: 'plain', label: 'no plugin (plain TypeORM)', subscribers: 'none', op: singleSaves(undefined) },
      { key: 'phase-transaction', label: "no-op receiver, phase 'transaction'", subscribers: 'signals', op: singleSaves('transaction') },
      { key: 'phase-commit', label: "no-op receiver, phase 'commit'", subscribers: 'signals', op: singleSaves('commit') },
    ],
    ratios: [
      { num: 'phase-commit', den: 'phase-transaction', label: "'commit' / 'transaction'", perCall: true },
      { num: 'phase-transaction', den: 'plain', label: "'transaction' / no plugin", perCall: true },
    ],
  },
];
// (f) and (g) the write paths other than save(), in bench/write-paths.ts; (l) the diagnostics'
// cost, in bench/diagnostics.ts.
comparisons.push(...writePathComparisons(ROUNDS[1000] ?? 5, REPS[1000] ?? 1, SINGLE_SAVES, fmt));
comparisons.push(diagnosticsComparison(SINGLE_SAVES, ROUNDS[1000] ?? 5, REPS[1000] ?? 1, fmt));

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------



const gc = (globalThis as { gc?: () => void }).gc;

async function timeOnce(variant: VariantDef, ds: DataSource, n: number): Promise<{ wall: number; cpu: number }> {
  const { op } = variant;
  await truncate(ds);
  await op.seed?.(ds, n);
  const input = op.prepare(n);
  usePluginExecute(plugin(variant.subscribers));
  const disconnect = op.connect?.();
  calls.receiver = 0;
  calls.subscriber = 0;
  await settleGc();
  let elapsed: number;
  let cpu: NodeJS.CpuUsage;
  try {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await op.run(ds, input);
    elapsed = performance.now() - start;
    cpu = process.cpuUsage(cpuStart);
  } finally {
    disconnect?.();
  }
  if (postSave.hasListeners()) throw new Error(`${variant.key}: postSave still has receivers after the operation`);
  await check(variant, ds, n);
  return { wall: elapsed, cpu: (cpu.user + cpu.system) / 1000 };
}

/** Untimed: the operation did what it claims (rows written, receivers/subscribers called). */
async function check(variant: VariantDef, ds: DataSource, n: number): Promise<void> {
  const [{ users, profiles }] = (await ds.query(
    'SELECT (SELECT count(*) FROM "users")::int AS users, (SELECT count(*) FROM "user_profiles")::int AS profiles',
  )) as Array<{ users: number; profiles: number }>;
  const e = variant.op.expect;
  const problems: string[] = [];
  if (users !== e.users(n)) problems.push(`users ${users}, expected ${e.users(n)}`);
  if (profiles !== e.profiles(n)) problems.push(`profiles ${profiles}, expected ${e.profiles(n)}`);
  if (calls.receiver !== (e.receiver?.(n) ?? 0)) problems.push(`receiver calls ${calls.receiver}, expected ${e.receiver?.(n) ?? 0}`);
  if (calls.subscriber !== (e.subscriber?.(n) ?? 0)) problems.push(`subscriber calls ${calls.subscriber}, expected ${e.subscriber?.(n) ?? 0}`);
  if (problems.length) throw new Error(`variant ${variant.key} (n=${n}): ${problems.join('; ')}`);
}

async function runComparison(def: ComparisonDef, n: number, serverUrl: string): Promise<ComparisonResult> {
  const rounds = def.rounds(n);
  const reps = def.reps(n);
  const dataSources = new Map<string, DataSource>();
  try {
    for (const v of def.variants) {
      const url = await createDatabase(serverUrl, `${def.id}_${v.key}`);
      dataSources.set(v.key, await openDataSource(url, v.subscribers));
    }
    const perRound: Record<string, number[]> = Object.fromEntries(def.variants.map((v) => [v.key, []]));
    const cpuPerRound: Record<string, number[]> = Object.fromEntries(def.variants.map((v) => [v.key, []]));
    const started = performance.now();
    for (let round = 0; round <= rounds; round++) {
      // Alternate the order between rounds; within a round, interleave operation by operation.
      const order = round % 2 === 0 ? def.variants : [...def.variants].reverse();
      const times: Record<string, number[]> = Object.fromEntries(def.variants.map((v) => [v.key, []]));
      const cpuTimes: Record<string, number[]> = Object.fromEntries(def.variants.map((v) => [v.key, []]));
      for (let rep = 0; rep < reps; rep++) {
        for (const v of order) {
          const t = await timeOnce(v, dataSources.get(v.key)!, n);
          times[v.key].push(t.wall);
          cpuTimes[v.key].push(t.cpu);
        }
      }
      const summary = order.map((v) => `${v.key} ${median(times[v.key]).toFixed(1)}`).join(', ');
      process.stderr.write(`  ${def.id} N=${fmt(n)} ${round === 0 ? 'warm-up' : `round ${round}/${rounds}`}: ${summary} ms\n`);
      if (round === 0) continue;
      for (const v of def.variants) {
        perRound[v.key].push(median(times[v.key]));
        cpuPerRound[v.key].push(median(cpuTimes[v.key]));
      }
    }
    process.stderr.write(`  ${def.id} N=${fmt(n)} took ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    const variants: Measured[] = def.variants.map((v) => ({
      key: v.key,
      label: v.label,
      rounds: perRound[v.key].map(r3),
      medianMs: r3(median(perRound[v.key])),
      cpuMedianMs: r3(median(cpuPerRound[v.key])),
      cpuRounds: cpuPerRound[v.key].map(r3),
    }));
    const ratios: RatioResult[] = def.ratios.map((r) => {
      // The headline ratio is the ratio of the two medians; the per-round ratios show the spread.
      // Targets are judged on the Node process's CPU: the database does the same work on both
      // sides, so CPU is what the plugin adds, and it moves far less with the machine's load.
      const value = median(perRound[r.num]) / median(perRound[r.den]);
      const cpuValue = median(cpuPerRound[r.num]) / median(cpuPerRound[r.den]);
      const perRoundRatios = perRound[r.num].map((t, i) => r3(t / perRound[r.den][i]));
      const cpuPerRoundRatios = cpuPerRound[r.num].map((t, i) => r3(t / cpuPerRound[r.den][i]));
      const applies = r.target && (!r.target.sizes || r.target.sizes.includes(n));
      const target = applies ? `${r.target!.op} ${r.target!.value}` : undefined;
      const met = applies ? (r.target!.op === '<=' ? cpuValue <= r.target!.value : cpuValue >= r.target!.value) : undefined;
      // (d): the difference per save() call, i.e. per transaction.
      const perCall = (m: Record<string, number[]>) => r2(((median(m[r.num]) - median(m[r.den])) / n) * 1000);
      return {
        label: r.label,
        num: r.num,
        den: r.den,
        value: r3(value),
        perRound: perRoundRatios,
        cpuValue: r3(cpuValue),
        cpuPerRound: cpuPerRoundRatios,
        target,
        met,
        deltaPerCallUs: r.perCall ? perCall(perRound) : undefined,
        cpuDeltaPerCallUs: r.perCall ? perCall(cpuPerRound) : undefined,
      };
    });
    return { id: def.id, title: def.title, n, unit: def.unit(n), rounds, repsPerRound: reps, variants, ratios };
  } finally {
    for (const ds of dataSources.values()) if (ds.isInitialized) await ds.destroy();
  }
}

// ---------------------------------------------------------------------------------------------


/** (e) Runs bench/dispatch.ts in a child process (its own file, its own settings) and reads its results. */
function runDispatch(): { results?: DispatchResults; error?: string } {
  const file = path.join(__dirname, 'dispatch-results.json');
  const before = Date.now();
  process.stderr.write('\n(e) dispatch micro-benchmarks: bench/dispatch.ts\n');
  const child = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', path.join(__dirname, 'dispatch.ts')], {
    cwd: path.join(__dirname, '..'),
    stdio: 'inherit',
    env: { ...process.env, BENCH_ONLY: '' },
  });
  if (child.status !== 0) return { error: `bench/dispatch.ts exited with ${child.status ?? child.signal}` };
  try {
    const results = JSON.parse(fs.readFileSync(file, 'utf8')) as DispatchResults;
    if (Date.parse(results.date) < before - 1000) return { error: 'bench/dispatch.ts did not write a new dispatch-results.json' };
    return { results };
  } catch (error) {
    return { error: `could not read ${file}: ${String(error)}` };
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadStart = os.loadavg().map(r2);
  // The code this process runs is the working tree as it is now, not when the run ends.
  const commit = git('rev-parse --short HEAD');
  const dirty = git('status --porcelain -- src migrations') !== '';
  const server = await startServer();
  let postgres: string;
  const results: ComparisonResult[] = [];
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await dropDatabases(server.url).catch((e) => process.stderr.write(`could not drop bench databases: ${String(e)}\n`));
    await server.stop().catch((e) => process.stderr.write(`could not stop PostgreSQL: ${String(e)}\n`));
  };
  const onSignal = () => {
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    postgres = await withClient(server.url, async (c) => String((await c.query('SHOW server_version')).rows[0].server_version));
    process.stderr.write(`PostgreSQL ${postgres} (${server.embedded ? 'embedded, started for this run' : 'DATABASE_URL'}); load ${loadStart.join(' ')}\n`);
    for (const def of comparisons) {
      if (ONLY && !ONLY.has(def.id)) continue;
      process.stderr.write(`\n(${def.id}) ${def.title}\n`);
      for (const n of def.sizes) results.push(await runComparison(def, n, server.url));
    }
  } finally {
    await stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const dispatch = SKIP_DISPATCH || (ONLY && !ONLY.has('e')) ? { error: 'skipped' } : runDispatch();
  const loadEnd = os.loadavg().map(r2);

  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: r2(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    postgres,
    postgresServer: server.embedded
      ? 'embedded-postgres on this machine (fsync=off, synchronous_commit=off, full_page_writes=off)'
      : 'DATABASE_URL',
    typeorm: (JSON.parse(fs.readFileSync(path.join(require.resolve('typeorm'), '..', 'package.json'), 'utf8')) as { version: string }).version,
    loadavgStart: loadStart,
    loadavgEnd: loadEnd,
  };

  printTable(results, dispatch.results, machine, startedAt);

  const out: BenchResults = {
    date: startedAt.toISOString(),
    commit,
    dirty,
    durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine,
    settings: {
      statistic: 'median over measured rounds of the per-round median operation time (wall clock); ratio = ratio of the two medians',
      cpu: 'cpuMedianMs: the same statistic for process.cpuUsage() (user + system, every thread of this process) during the operation; cpuValue = ratio of the two CPU medians; targets are judged on cpuValue',
      warmupRounds: 1,
      interleaving: 'operation by operation, order reversed every other round',
      betweenOperations: 'TRUNCATE both tables, build fresh entities, global.gc() when exposed (all untimed)',
      gcExposed: gc !== undefined,
    },
    comparisons: results,
    dispatch: dispatch.results
      ? { date: dispatch.results.date, rows: dispatch.results.rows, ratios: dispatch.results.ratios, machine: dispatch.results.machine, settings: dispatch.results.settings }
      : { error: dispatch.error },
  };
  if (!ONLY) {
    fs.writeFileSync(path.join(__dirname, 'results.json'), JSON.stringify(out, null, 2) + '\n');
    process.stderr.write(`\nwritten: bench/results.json (${out.durationS} s)\n`);
  }
  if (dispatch.error && dispatch.error !== 'skipped') {
    process.stderr.write(`dispatch benchmark failed: ${dispatch.error}\n`);
    process.exitCode = 1;
  }
  const durableRows = ['h', 'i', 'j', 'k'].filter((row) => !ONLY || ONLY.has(row));
  if (!SKIP_DURABLE && durableRows.length > 0) runDurable(ONLY ? durableRows.join(',') : '');
}

/** (h)-(k) durable receivers: bench/durable.ts in a child process; it prints its rows and writes bench/durable-results.json. */
function runDurable(rows: string): void {
  process.stderr.write('\n(h-k) durable receivers: bench/durable.ts\n');
  const child = spawnSync(process.execPath, ['--expose-gc', '-r', 'ts-node/register/transpile-only', path.join(__dirname, 'durable.ts')], {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, BENCH_ONLY: rows },
    stdio: 'inherit',
  });
  if (child.status !== 0) {
    process.stderr.write(`bench/durable.ts exited with ${child.status ?? child.signal}\n`);
    process.exitCode = 1;
  }
}

function printTable(results: ComparisonResult[], dispatch: DispatchResults | undefined, machine: Record<string, unknown>, date: Date): void {
  const spread = (values: number[] | undefined) => (values && values.length ? `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}` : '');
  const rows: string[][] = [['', 'N', 'variant', 'wall ms', 'CPU ms', 'wall ratio', '(rounds)', 'CPU ratio', '(rounds)', 'target (CPU)', '']];
  for (const r of results) {
    r.variants.forEach((v, i) => rows.push([i === 0 ? r.id : '', i === 0 ? fmt(r.n) : '', v.label, v.medianMs.toFixed(1), v.cpuMedianMs.toFixed(1), '', '', '', '', '', '']));
    for (const q of r.ratios) {
      const delta = q.deltaPerCallUs === undefined ? '' : ` (${q.deltaPerCallUs >= 0 ? '+' : ''}${q.deltaPerCallUs.toFixed(0)} us wall, ${(q.cpuDeltaPerCallUs ?? 0) >= 0 ? '+' : ''}${(q.cpuDeltaPerCallUs ?? 0).toFixed(0)} us CPU per call)`;
      rows.push([
        '',
        '',
        `  ${q.label}${delta}`,
        '',
        '',
        `${q.value.toFixed(2)}x`,
        spread(q.perRound),
        q.cpuValue === undefined ? '' : `${q.cpuValue.toFixed(2)}x`,
        spread(q.cpuPerRound),
        q.target ?? '',
        q.met === undefined ? '' : q.met ? 'met' : 'MISSED',
      ]);
    }
  }
  if (dispatch) {
    // In memory and single-threaded: wall clock is CPU time here.
    for (const q of dispatch.ratios) rows.push(['e', '', q.key, '', '', '', '', `${q.value.toFixed(2)}x`, '', q.target, q.target === '(info)' ? '' : q.ok ? 'met' : 'MISSED']);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const right = new Set([1, 3, 4, 5, 7]);
  const line = (row: string[]) => row.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  console.log(`\ntypeorm-signals on PostgreSQL ${String(machine.postgres)}, ${date.toISOString()}`);
  console.log(`${String(machine.cpu)}, ${String(machine.cores)} cores, ${String(machine.memoryGiB)} GiB, Node ${String(machine.node)}, TypeORM ${String(machine.typeorm)}`);
  console.log(`medians over the measured rounds (after a warm-up round); targets judged on the Node process's CPU; load average ${(machine.loadavgStart as number[]).join(' ')} -> ${(machine.loadavgEnd as number[]).join(' ')}\n`);
  console.log(line(rows[0]));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows.slice(1)) console.log(line(row));
  console.log('');
}

// ---------------------------------------------------------------------------------------------

function list(value: string | undefined, fallback: number[]): number[] {
  if (!value) return fallback;
  const sizes = value.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`BENCH_SIZES: expected positive integers, got ${value}`);
  return sizes;
}

function git(args: string): string | undefined {
  try {
    return execFileSync('git', args.split(' '), { cwd: __dirname, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}


main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
