/**
 * `npm run bench:profile`: where the CPU goes in the bench's operations, from V8's sampling
 * profiler (the same one `node --cpu-prof` uses), started after the DataSource is set up and
 * warmed and stopped after the last operation. The untimed work between operations (building the
 * input, truncating the tables) shows up as "bench harness" and as idle time, apart from the rest.
 *
 * For each scenario it saves N users R times and prints the self time by where the code lives
 * (this library's src/, TypeORM, the pg driver, Node's internals, GC) and the library's own
 * functions with the most self time. It writes each profile to bench/profiles/<scenario>.cpuprofile,
 * which Chrome DevTools (Performance > Load profile) or speedscope open.
 *
 *   npm run bench:profile
 *   PROFILE_SCENARIOS=idle,batch PROFILE_N=1000 PROFILE_REPS=20 npm run bench:profile
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDatabase, dropDatabases, startServer } from './server';
import {
  openDataSource,
  saveUsers,
  saveUsersNoopReceiver,
  saveUsersNoopSubscriber,
  signupBatchReceiver,
  signupByHand,
  signupByHandNoopSubscribers,
  truncate,
  usePluginExecute,
  type Operation,
  type Subscribers,
} from './variants';
import { singleInserts, singleInsertsByHand, updateByCriteriaReceiver, updateByHand } from './write-paths';

interface Scenario {
  subscribers: Subscribers;
  op: Operation;
  what: string;
}

const scenarios: Record<string, Scenario> = {
  plain: { subscribers: 'none', op: saveUsers, what: 'save([N users]), no plugin' },
  idle: { subscribers: 'signals', op: saveUsers, what: 'save([N users]), SignalsSubscriber, no receivers' },
  subscriber: { subscribers: 'noop-subscriber', op: saveUsersNoopSubscriber, what: 'save([N users]), a no-op EntitySubscriber' },
  noop: { subscribers: 'signals', op: saveUsersNoopReceiver, what: 'save([N users]), a per-row no-op postSave receiver' },
  'by-hand': { subscribers: 'none', op: signupByHand, what: 'signup of N users by hand' },
  'fair-floor': { subscribers: 'noop-subscribers-both', op: signupByHandNoopSubscribers, what: 'signup by hand + no-op subscribers (fair floor)' },
  batch: { subscribers: 'signals', op: signupBatchReceiver, what: 'signup of N users with the batch ensureProfileExists' },
  'update-by-hand': { subscribers: 'none', op: updateByHand, what: 'update() of N rows by hand: locking find(), update by key, per-row work' },
  'update-receiver': { subscribers: 'signals', op: updateByCriteriaReceiver, what: 'update() of N rows by criteria, a per-row postSave receiver' },
  'insert-by-hand': { subscribers: 'none', op: singleInsertsByHand, what: 'N x insert(user) in dataSource.transaction() by hand' },
  'insert-receiver': { subscribers: 'signals', op: singleInserts, what: 'N x insert(user), a transaction-phase receiver (its own transaction)' },
};

const NAMES = (process.env.PROFILE_SCENARIOS ?? 'plain,idle,subscriber,noop,fair-floor,batch').split(',');
const N = Number(process.env.PROFILE_N ?? 1000);
const REPS = Number(process.env.PROFILE_REPS ?? 30);
const SAMPLING_US = 100;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives. */
function placeOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)' || functionName === '(idle)') return 'idle / waiting';
  if (/[\\/]src[\\/](signals|typeorm|testing)[\\/]/.test(url) && !url.includes('node_modules')) return 'typeorm-signals (src/)';
  if (/[\\/]src[\\/]example[\\/]/.test(url)) return 'example receivers (src/example)';
  if (/[\\/]bench[\\/]/.test(url)) return 'bench harness';
  if (/node_modules[\\/]typeorm/.test(url)) return 'TypeORM';
  if (/node_modules[\\/](pg|pg-protocol|pg-pool|pg-types)[\\/]/.test(url)) return 'pg driver';
  if (url.startsWith('node:') || url === '') return 'Node internals / native';
  return 'other packages';
}

function selfTimes(profile: Profile): { total: number; byPlace: Map<string, number>; byFunction: Map<string, number>; overall: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // Each sample counts as one sampling interval, not as its time delta: on a loaded machine the
  // thread is often descheduled between two samples, and the delta would charge that wait to
  // whatever happened to be on the stack. Counting samples approximates the main thread's CPU.
  for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + SAMPLING_US);
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const overall = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id)!;
    const place = placeOf(callFrame.url, callFrame.functionName);
    total += us;
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const where = `${callFrame.functionName || '(anonymous)'} ${path.relative(process.cwd(), callFrame.url.replace(/^file:\/\//, ''))}:${callFrame.lineNumber + 1}`;
    if (place === 'typeorm-signals (src/)') byFunction.set(where, (byFunction.get(where) ?? 0) + us);
    if (place !== 'idle / waiting') overall.set(where, (overall.get(where) ?? 0) + us);
  }
  return { total, byPlace, byFunction, overall };
}

async function profileScenario(name: string, scenario: Scenario, ds: DataSource, session: Session): Promise<void> {
  const { op } = scenario;
  usePluginExecute(scenario.subscribers === 'signals');
  // Warm-up, not profiled.
  for (let i = 0; i < 5; i++) await runOnce(op, ds);
  await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_US });
  await session.post('Profiler.start');
  let busy = 0;
  for (let i = 0; i < REPS; i++) busy += await runOnce(op, ds);
  const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
  fs.mkdirSync(path.join(__dirname, 'profiles'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'profiles', `${name}.cpuprofile`), JSON.stringify(profile));
  const { total, byPlace, byFunction, overall } = selfTimes(profile);
  const perRow = (us: number) => `${(us / (REPS * N)).toFixed(2)} µs/row`;
  console.log(`\n== ${name}: ${scenario.what.replace('N', N.toLocaleString('en-US'))}, ${REPS} operations; ${(busy / 1000).toFixed(0)} ms CPU measured`);
  for (const [place, us] of [...byPlace].sort((a, b) => b[1] - a[1])) {
    console.log(`   ${place.padEnd(34)} ${((100 * us) / total).toFixed(1).padStart(5)}%  ${perRow(us)}`);
  }
  console.log('   all functions, most self time first:');
  for (const [where, us] of [...overall].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`     ${perRow(us).padStart(15)}  ${where}`);
  const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 12);
  if (top.length > 0) console.log('   the library\'s own functions, most self time first:');
  for (const [where, us] of top) console.log(`     ${perRow(us).padStart(15)}  ${where}`);
}

/** One operation (truncate and input first); returns the operation's own CPU time, µs. */
async function runOnce(op: Operation, ds: DataSource): Promise<number> {
  await truncate(ds);
  await op.seed?.(ds, N);
  const input = op.prepare(N);
  const disconnect = op.connect?.();
  const cpu = process.cpuUsage();
  try {
    await op.run(ds, input);
  } finally {
    disconnect?.();
  }
  const used = process.cpuUsage(cpu);
  return used.user + used.system;
}

async function main(): Promise<void> {
  const unknown = NAMES.filter((n) => !(n in scenarios));
  if (unknown.length) throw new Error(`PROFILE_SCENARIOS: unknown ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  const server = await startServer();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  try {
    for (const name of NAMES) {
      const scenario = scenarios[name];
      const ds = await openDataSource(await createDatabase(server.url, `profile_${name}`), scenario.subscribers);
      try {
        await profileScenario(name, scenario, ds, session);
      } finally {
        await ds.destroy();
      }
    }
  } finally {
    session.disconnect();
    await dropDatabases(server.url);
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
