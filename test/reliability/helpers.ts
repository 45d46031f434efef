/**
 * Shared by the reliability tests (npm run test:reliability). Each test file records what it
 * measured with recordFigures(); summary-reporter.cjs prints them once the run is over.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { SignalsSubscriber } from '../../src';
import { exampleMigrations } from '../../migrations';
import { exampleEntities } from '../../src/example/entities';
import { openTestDataSource, type TestDataSource } from '../helpers/database';

/** Set by test/reliability/global-setup.mjs: the folder the figures go to. */
export const FIGURES_ENV = 'TSIG_RELIABILITY_FIGURES';

/**
 * Merges figures into this section's JSON file. One section is written by one test file only,
 * so parallel workers never write the same file.
 */
export function recordFigures(section: string, figures: Record<string, unknown>): void {
  const dir = process.env[FIGURES_ENV] ?? path.join(os.tmpdir(), 'typeorm-signals-reliability');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${section}.json`);
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // first figures of this section
  }
  fs.writeFileSync(file, JSON.stringify({ ...current, ...figures }, null, 2));
}

/** mulberry32: a small seeded PRNG, so that "random" failures are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The example schema (users, user_profiles, from the migrations) in a database of its own. */
export function openExampleDatabase(poolSize = 10): Promise<TestDataSource> {
  return openTestDataSource({
    entities: exampleEntities,
    migrations: exampleMigrations,
    subscribers: [SignalsSubscriber],
    extra: { max: poolSize },
  });
}

export interface RowCounts {
  users: number;
  profiles: number;
}

export async function rowCounts(ds: DataSource): Promise<RowCounts> {
  const [row] = await ds.query(
    'SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM user_profiles)::int AS profiles',
  );
  return { users: row.users, profiles: row.profiles };
}

/** The pg Pool behind a postgres DataSource: sizes for the load figures. */
export function poolOf(ds: DataSource): { totalCount: number; idleCount: number; waitingCount: number } {
  return (ds.driver as unknown as { master: { totalCount: number; idleCount: number; waitingCount: number } }).master;
}

/** Runs `count` tasks with at most `concurrency` at a time; returns their settled results in order. */
export async function runPool<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await task(i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** global.gc, or a failure that says how to get it: never a silent skip. */
export function requireGc(): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') {
    throw new Error(
      'the memory checks need a forced garbage collection (global.gc): run them with `npm run test:reliability`, ' +
        'which starts jest as `node --expose-gc node_modules/.bin/jest -c jest.reliability.config.js`',
    );
  }
  return gc;
}

/** Heap used after forced collections, with turns of the event loop between them (WeakRefs, finalizers). */
export async function settledHeap(gc: () => void): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  gc();
  return process.memoryUsage().heapUsed;
}

export const MB = 1024 * 1024;
