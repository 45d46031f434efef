import { spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a TypeScript file in a child Node process, as `ts-node --transpile-only` (what
 * `npm run demo` does), from the project root. `env` entries set to undefined are removed.
 *
 * Also the way to use PGlite from a test: its CommonJS build loads its files with a dynamic
 * import(), which jest's module sandbox refuses without --experimental-vm-modules.
 */
export function runTypeScript(file: string, env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<ScriptRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', file], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** The JSON a script printed on its last line starting with `prefix`. */
export function lastJson<T>(stdout: string, prefix = 'RESULT '): T {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`no "${prefix}" line in the script's output:\n${stdout}`);
  return JSON.parse(line.slice(prefix.length)) as T;
}
