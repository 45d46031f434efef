/**
 * Receivers that stay connected until the current test ends, for connections made outside the
 * test's own block (in a helper such as `recordSaves()`, or in a shared scenario): `connections()`
 * registers one afterEach in the describe (or file) it is called in, and `listen(off)` hands it
 * a disconnect function. A connection that lives in one block is written
 * `using _off = signal.connect(...)` instead.
 *
 * Call `connections()` before the suite's own afterEach hooks: jest runs the hooks of one level
 * in the order they were registered, so the receivers are gone before a clean-up writes.
 */
export interface Connections {
  /**
   * Keeps `off` (what `connect()` returns, or any function that undoes a connection) until the
   * test ends, and returns it. Typed so that passing a connect function itself, instead of what it
   * returns, does not compile.
   */
  listen<T extends () => boolean | void>(off: T): T;
  /** Undoes every kept connection now, newest first (the afterEach does the same). */
  disconnectAll(): void;
}

export function connections(): Connections {
  const kept = keptConnections();
  afterEach(kept.disconnectAll);
  return kept;
}

/**
 * The same without the afterEach, for a fixture made in a beforeAll (where jest allows no hooks)
 * that calls `disconnectAll()` from its own reset: test/helpers/durable.ts.
 */
export function keptConnections(): Connections {
  const kept: Array<() => boolean | void> = [];
  const disconnectAll = () => {
    while (kept.length) kept.pop()!();
  };
  return {
    listen(off) {
      kept.push(off);
      return off;
    },
    disconnectAll,
  };
}
