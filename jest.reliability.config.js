/**
 * `npm run test:reliability`: load, atomicity, faults, recursion, bad input, memory, security and
 * durable-receiver checks (test/reliability/*.reliability.ts), kept out of `npm test` because they take
 * a few minutes. Same database set-up as `npm test`: an embedded PostgreSQL unless DATABASE_URL names a
 * server. The script runs jest under `node --expose-gc` for the memory checks; the summary
 * reporter prints the measured figures once at the end.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/reliability'],
  testMatch: ['**/*.reliability.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // `using off = signal.connect(...)` on Node 20, whose vm contexts lack Symbol.dispose.
  setupFiles: ['<rootDir>/test/helpers/dispose.ts'],
  globalSetup: '<rootDir>/test/reliability/global-setup.mjs',
  globalTeardown: '<rootDir>/test/reliability/global-teardown.mjs',
  reporters: ['default', '<rootDir>/test/reliability/summary-reporter.cjs'],
  // One file at a time: durable.reliability.ts starts ~125 writer and worker processes, and beside
  // it the 10,000 transactions of memory.reliability.ts took 134 s instead of 25 s (load ~15 on 2
  // cores) and hit the test timeout. Serial, no file's figures depend on another file's load.
  maxWorkers: 1,
  testTimeout: 120000,
  collectCoverage: false,
};
