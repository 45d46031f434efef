/**
 * `npm run test:package` (test/package/*.pkg.ts): packs the project, installs the tarball into a
 * new project in a temporary folder and runs it there through require and import. Kept out of
 * `npm test` because it builds, packs and runs npm install (about half a minute).
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/package'],
  testMatch: ['**/*.pkg.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  maxWorkers: 1,
  testTimeout: 180000,
  collectCoverage: false,
};
