import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

// Type-checks the whole project, test/types included: every `@ts-expect-error` there must be a
// real error (an unused one fails tsc) and every other line must compile.
test('tsc --noEmit passes on the whole project, type tests included', () => {
  const root = path.resolve(__dirname, '../..');
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  const run = spawnSync(tsc, ['-p', 'tsconfig.json', '--noEmit'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`;
  // On failure the diff shows tsc's own output.
  expect({ status: run.status, output: run.status === 0 ? '' : output }).toEqual({ status: 0, output: '' });
}, 120_000);
