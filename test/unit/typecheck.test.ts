import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

function tsc(project: string) {
  const run = spawnSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', project, '--noEmit'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`;
  // On failure the diff shows tsc's own output.
  return { status: run.status, output: run.status === 0 ? '' : output };
}

// Type-checks the whole project, test/types included: every `@ts-expect-error` there must be a
// real error (an unused one fails tsc) and every other line must compile.
test('tsc --noEmit passes on the whole project, type tests included', () => {
  expect(tsc('tsconfig.json')).toEqual({ status: 0, output: '' });
}, 120_000);

// The vitest project (test/vitest) on its own tsconfig: ES modules, vitest's types and no jest
// globals, as a vitest user's project; test/vitest/vitest.types.ts tests typeorm-signals/vitest's
// augmentation of vitest's Assertion and AsymmetricMatchersContaining.
test('tsc --noEmit passes on the vitest project, its type tests included', () => {
  expect(tsc('test/vitest/tsconfig.json')).toEqual({ status: 0, output: '' });
}, 120_000);
