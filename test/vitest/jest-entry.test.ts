/**
 * typeorm-signals/jest imported under vitest (no global expect with vitest's default
 * `globals: false`): it cannot register, and says so with the way that works, instead of leaving
 * the first assertion to fail with "Invalid Chai property: toHaveSent".
 */
import { expect, test } from 'vitest';

test('importing typeorm-signals/jest under vitest warns and names typeorm-signals/vitest and /matchers', async () => {
  const warnings: Array<Error & { code?: string }> = [];
  const onWarning = (warning: Error) => void warnings.push(warning);
  process.on('warning', onWarning);
  try {
    // A specifier TypeScript does not follow: this project's types stay free of jest's augmentation.
    const jestEntry = 'typeorm-signals/jest';
    await import(jestEntry);
    await new Promise((resolve) => setImmediate(resolve)); // process.emitWarning emits on the next tick
  } finally {
    process.off('warning', onWarning);
  }
  const ours = warnings.filter((w) => w.name === 'TypeormSignalsWarning');
  expect(ours.map((w) => w.code)).toEqual(['TSIG_JEST_NO_EXPECT']);
  expect(ours[0].message).toContain("there is no global expect under vitest. Use import 'typeorm-signals/vitest' under vitest, or expect.extend(signalMatchers) with signalMatchers from 'typeorm-signals/matchers'.");
  // It registered nothing.
  expect(() => (expect([]) as unknown as { toHaveSent(): void }).toHaveSent()).toThrow(/Invalid Chai property: toHaveSent/);
});
