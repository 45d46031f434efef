/**
 * What the package tests share: run a command, pack this project, install the tarball into a new
 * project in a temporary folder. Dependencies are installed at the versions this repository tests
 * with (its node_modules), so that npm serves them from its cache.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false', ...env },
    timeout: 150_000,
  });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.status}:\n${result.stdout}\n${result.stderr}${result.error ?? ''}`);
  }
  return result;
}

/** The version this repository tests with, so that the install is served from the npm cache. */
export function devVersion(name: string): string {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
}

export interface Packed {
  filename: string;
  files: Array<{ path: string }>;
}

/** `npm pack --json` output; lifecycle scripts (prepack's build) may print lines before it. */
export function packJson(stdout: string): Packed[] {
  const start = stdout.search(/^\[/m);
  if (start < 0) throw new Error(`npm pack printed no JSON:\n${stdout}`);
  return JSON.parse(stdout.slice(start));
}

/** A temporary folder holding the packed tarball (`npm pack` runs the build through prepack). */
export function packInto(prefix: string): { work: string; tarball: string; packed: Packed } {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const [packed] = packJson(run('npm', ['pack', '--json', '--pack-destination', work], ROOT).stdout);
  return { work, tarball: path.join(work, packed.filename), packed };
}

/** A new project in `dir` with the tarball and these dev-version dependencies installed. */
export function installApp(dir: string, tarball: string, dependencies: string[], extraArgs: string[] = []): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), version: '1.0.0', private: true }, null, 2));
  const deps = dependencies.map((name) => `${name}@${devVersion(name)}`);
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...extraArgs, tarball, ...deps], dir);
}

/** The JSON a program printed on its line starting with `prefix`. */
export function resultLine<T = any>(stdout: string, what: string, prefix = 'RESULT '): T {
  const line = stdout.split('\n').find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`${what} printed no ${prefix.trim()} line:\n${stdout}`);
  return JSON.parse(line.slice(prefix.length));
}
