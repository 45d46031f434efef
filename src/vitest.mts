/**
 * typeorm-signals/vitest: `toHaveSent` and `toHaveSentTimes` for the records of
 * captureSignals(), registered on vitest's `expect`.
 *
 * `import 'typeorm-signals/vitest'` (in a test file, or once in a `setupFiles` file) registers
 * the matchers on the `expect` that vitest exports, so it works with vitest's default
 * `globals: false`, and adds them to the types of vitest's `Assertion` (`expect(records)`) and
 * `AsymmetricMatchersContaining` (`expect.toHaveSent(...)`). The matchers are those of
 * typeorm-signals/matchers (one implementation, one module instance with the rest of the
 * package).
 *
 * This entry point is ECMAScript-only because vitest is (`require('vitest')` throws).
 *
 * @example
 * // vitest.setup.ts, listed in vitest.config.ts as test.setupFiles
 * import 'typeorm-signals/vitest';
 * @module
 */
import { expect } from 'vitest';
// The CommonJS build of the matchers, as every other entry point uses: one instance of Signal.
import { signalMatchers, type SignalAssertions } from './matchers.js';

expect.extend(signalMatchers);

declare module 'vitest' {
  // T is unused here but must be declared: this merges with vitest's Assertion<T>.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface Assertion<T = any> extends SignalAssertions<void> {}
  interface AsymmetricMatchersContaining extends SignalAssertions<unknown> {}
}
