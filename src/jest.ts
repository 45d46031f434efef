/**
 * typeorm-signals/jest: `toHaveSent` and `toHaveSentTimes` for the records of captureSignals(),
 * registered on jest's `expect`.
 *
 * Importing this module registers the matchers when jest's global `expect` exists (an import
 * at the top of a test file, or in a `setupFilesAfterEnv` file) and adds them to jest's types.
 * The matchers themselves are typeorm-signals/matchers' (one implementation for every runner),
 * re-exported here for `expect.extend(signalMatchers)` where there is no global `expect`
 * (`@jest/globals` only).
 */
import { signalMatchers, type SignalAssertions } from './matchers';

export { signalMatchers, toHaveSent, toHaveSentTimes } from './matchers';
export type { MatcherContext, MatcherResult, SentExpectation, SignalAssertions } from './matchers';

const globalExpect = (globalThis as { expect?: { extend?: (matchers: object) => void } }).expect;
if (typeof globalExpect?.extend === 'function') {
  globalExpect.extend(signalMatchers);
} else if (process.env.VITEST !== undefined || 'Bun' in globalThis) {
  // vitest (without `globals: true`) and bun test have no global `expect` to register on: say so
  // now rather than let the first assertion fail with "Invalid Chai property: toHaveSent".
  process.emitWarning(
    `typeorm-signals/jest registered nothing: there is no global expect under ${'Bun' in globalThis ? 'bun test' : 'vitest'}. ` +
      `Use import 'typeorm-signals/vitest' under vitest, or expect.extend(signalMatchers) with signalMatchers from 'typeorm-signals/matchers'.`,
    { type: 'TypeormSignalsWarning', code: 'TSIG_JEST_NO_EXPECT' },
  );
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // T is unused here but must be declared: this merges with @types/jest's Matchers<R, T>.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    interface Matchers<R, T = {}> extends SignalAssertions<R> {}
  }
}
