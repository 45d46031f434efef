/**
 * Child processes for durable.reliability.ts: writers and workers started as plain Node
 * processes (the .ts files through ts-hook.cjs), their stdout lines on one bus so the test can
 * wait for "COMMITTED", "INSIDE <job>", "RAN <job> <ms>" from whichever child says it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export interface Line {
  child: Child;
  text: string;
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code and signal once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: () => string;
  alive: boolean;
  ready: boolean;
}

/** Every line every child printed, in arrival order, and waits on them. */
export class LineBus {
  readonly lines: Line[] = [];
  private waiters = new Set<() => void>();

  push(line: Line): void {
    this.lines.push(line);
    for (const wake of [...this.waiters]) wake();
  }

  /** The first line from index `from` on that matches; rejects after `timeoutMs` saying what it waited for. */
  waitFor(what: string, match: (line: Line) => boolean, from = 0, timeoutMs = 30_000): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.lines.length; i++) {
          if (match(this.lines[i])) {
            this.waiters.delete(check);
            clearTimeout(timer);
            resolve(this.lines[i]);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const tail = this.lines.slice(-10).map((l) => `${l.child.name}: ${l.text}`);
        reject(new Error(`waited ${timeoutMs} ms for ${what}; last lines:\n${tail.join('\n')}`));
      }, timeoutMs);
      timer.unref();
      this.waiters.add(check);
      check();
    });
  }
}

const HOOK = path.join(__dirname, 'ts-hook.cjs');

/** Starts `script` (a file beside this one) with DURABLE_* variables; its lines go to `bus`. */
export function startChild(bus: LineBus, name: string, script: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['-r', HOOK, path.join(__dirname, script)], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const child: Child = {
    name,
    process: proc,
    exited: new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal }))),
    stderr: () => stderr,
    alive: true,
    ready: false,
  };
  void child.exited.then(() => (child.alive = false));
  readline.createInterface({ input: proc.stdout! }).on('line', (text) => {
    if (text === 'READY') child.ready = true;
    bus.push({ child, text });
  });
  return child;
}

/** SIGKILL, then the exit. */
export async function kill(child: Child): Promise<void> {
  child.process.kill('SIGKILL');
  await child.exited;
}

/** A graceful stop (stdin closed: the worker finishes its batch), SIGKILL after `ms`. */
export async function stop(child: Child, ms = 10_000): Promise<void> {
  if (!child.alive) return;
  child.process.stdin!.end();
  const timer = setTimeout(() => child.process.kill('SIGKILL'), ms);
  await child.exited;
  clearTimeout(timer);
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
