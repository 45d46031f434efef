/**
 * `npm test` runs two projects in one jest run:
 *
 * - typeorm-1:   every test (unit, types, integration, drivers, docs) on TypeORM 1.x, the
 *                `typeorm` devDependency;
 * - typeorm-0.3: the integration and driver suites again on TypeORM 0.3 (the `typeorm-0.3`
 *                devDependency, an npm alias pinned by package-lock.json), by mapping every
 *                import of `typeorm` to that copy. Tests that start child processes are left out:
 *                a child process loads the real `typeorm` package, so it would test 1.x again.
 *
 * @type {import('jest').Config}
 */
const shared = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // PGlite's CommonJS build imports Node built-ins with import(), which jest's sandbox refuses.
    '@electric-sql/pglite/dist/.+\\.cjs$': '<rootDir>/test/drivers/pglite-transform.js',
  },
  transformIgnorePatterns: ['/node_modules/(?!@electric-sql/pglite/)'],
  // `using off = signal.connect(...)` on Node 20, whose vm contexts lack Symbol.dispose.
  setupFiles: ['<rootDir>/test/helpers/dispose.ts'],
};

const typeorm03 = {
  '^typeorm$': '<rootDir>/node_modules/typeorm-0.3',
  '^typeorm/(.*)$': '<rootDir>/node_modules/typeorm-0.3/$1',
};

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'typeorm-1',
      roots: ['<rootDir>/test', '<rootDir>/docs'],
      // test/vitest is vitest's project (npm run test:vitest): vitest cannot run under jest.
      testPathIgnorePatterns: ['/node_modules/', '/test/vitest/'],
    },
    {
      ...shared,
      displayName: 'typeorm-0.3',
      roots: ['<rootDir>/test/integration', '<rootDir>/test/drivers'],
      testPathIgnorePatterns: ['/node_modules/', '/test/integration/(example-demo|example-demo-durable|pglite-example|migrations-cli-run)\\.test\\.ts$'],
      moduleNameMapper: typeorm03,
    },
  ],
  // One throwaway PostgreSQL for the whole run unless DATABASE_URL names a server.
  globalSetup: '<rootDir>/test/helpers/global-setup.mjs',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.mjs',
  maxWorkers: 2,
  testTimeout: 60000,
  collectCoverage: true,
  coverageReporters: ['text-summary'],
  collectCoverageFrom: ['src/**/*.ts', '!src/example/**'],
  coverageThreshold: {
    './src/signals/': { lines: 95 },
  },
};
