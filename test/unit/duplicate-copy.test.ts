/**
 * Issue 14 item 3: a second physical copy of typeorm-signals in the process (npm link, a
 * monorepo) warns when it loads, naming both folders. The real detection module is loaded a
 * second time from another folder, as a second copy's would be; test/package/diagnostics.pkg.ts
 * does the same with two installed tarballs and checkSignals().
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DUPLICATE_COPY_CODE, duplicateCopyMessage, otherCopies, thisCopy } from '../../src/signals/copies';

const ROOT = path.resolve(__dirname, '../..');
let other: string;
let warnings: jest.SpyInstance;

beforeAll(() => {
  other = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'typeorm-signals-copy-')));
  fs.mkdirSync(path.join(other, 'src', 'signals'), { recursive: true });
  fs.writeFileSync(path.join(other, 'package.json'), JSON.stringify({ name: 'typeorm-signals', version: '0.0.9' }));
  fs.copyFileSync(path.join(ROOT, 'src/signals/copies.ts'), path.join(other, 'src/signals/copies.ts'));
});
beforeEach(() => {
  warnings = jest.spyOn(process, 'emitWarning');
});
afterEach(() => warnings.mockRestore());
afterAll(() => {
  if (other) fs.rmSync(other, { recursive: true, force: true });
});

function duplicateWarnings(): string[] {
  return warnings.mock.calls.filter(([, options]) => (options as { code?: string })?.code === DUPLICATE_COPY_CODE).map(([message]) => String(message));
}

test('one copy, loaded again (jest.isolateModules, a second require of the same folder), is not a duplicate', () => {
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../../src/signals/copies');
  });
  expect(thisCopy.root).toBe(fs.realpathSync(ROOT));
  expect(duplicateWarnings()).toEqual([]);
  expect(duplicateCopyMessage()).toBeUndefined();
});

test('a copy in another folder warns when it loads, naming both folders and what it breaks; the first copy then knows of it', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const second = require(path.join(other, 'src/signals/copies.ts')) as typeof import('../../src/signals/copies');
  expect(second.thisCopy).toEqual({ root: other, version: '0.0.9' });
  const [message, ...more] = duplicateWarnings();
  expect(more).toEqual([]);
  expect(warnings.mock.calls.find(([m]) => m === message)?.[1]).toEqual({ type: 'TypeormSignalsWarning', code: 'TYPEORM_SIGNALS_DUPLICATE_COPY' });
  expect(message).toContain(`typeorm-signals is loaded from 2 places in this process: ${other} (0.0.9) and ${thisCopy.root} (${thisCopy.version})`);
  expect(message).toContain('receivers connected through one copy never run for a DataSource whose SignalsSubscriber comes from the other');
  // Seen from the first copy (what its checkSignals() reports).
  expect(otherCopies()).toEqual([{ root: other, version: '0.0.9' }]);
  expect(duplicateCopyMessage()).toContain(`${thisCopy.root} (${thisCopy.version}) and ${other} (0.0.9)`);
});
