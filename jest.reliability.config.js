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
  globalSetup: '<rootDir>/test/reliability/global-setup.mjs',
  globalTeardown: '<rootDir>/test/reliability/global-teardown.mjs',
  reporters: ['default', '<rootDir>/test/reliability/summary-reporter.cjs'],
  maxWorkers: 2,
  testTimeout: 120000,
  collectCoverage: false,
};
