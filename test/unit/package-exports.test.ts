import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

// `npm run build` (scripts/build.mjs) compiles src/ to dist/ file by file (tsc -p
// tsconfig.build.json), so every path in package.json "exports" must be the build output of a
// source file that exists. This checks that mapping without running the build; the entry points
// are then required by name.
const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const build = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8'));

const toSource = (distPath: string, ext: '.js' | '.d.ts') => {
  expect(distPath.startsWith('./dist/') && distPath.endsWith(ext)).toBe(true);
  return path.join(root, 'src', distPath.slice('./dist/'.length, -ext.length) + '.ts');
};

test('the build writes src/ to dist/', () => {
  expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist', declaration: true, noEmit: false });
  expect(build.include).toEqual(['src']);
});

test.each([
  ['.', 'index'],
  ['./testing', 'testing/index'],
  ['./jest', 'jest'],
  ['./matchers', 'matchers'],
  ['./nestjs', 'nestjs/index'],
])('exports["%s"]: require gets the CommonJS build of src/%s.ts, import its .mjs wrapper, each with types', (subpath, file) => {
  const entry = pkg.exports[subpath];
  // The .mjs/.d.mts wrappers are written by scripts/build.mjs next to the CommonJS build and only
  // re-export it (one module instance); test/package/install.pkg.ts runs them for real.
  expect(entry).toEqual({
    import: { types: `./dist/${file}.d.mts`, default: `./dist/${file}.mjs` },
    require: { types: `./dist/${file}.d.ts`, default: `./dist/${file}.js` },
  });
  expect(existsSync(toSource(entry.require.default, '.js'))).toBe(true);
  expect(toSource(entry.require.types, '.d.ts')).toBe(toSource(entry.require.default, '.js'));
  // moduleResolution "node" (node10) ignores "exports": typesVersions points it at the same types.
  if (subpath !== '.') expect(pkg.typesVersions['*'][subpath.slice(2)]).toEqual([entry.require.types.slice(2)]);
});

test('exports["./vitest"]: import gets src/vitest.mts compiled to ESM (vitest cannot be required); require gets its types and a .cjs that says so', () => {
  const entry = pkg.exports['./vitest'];
  expect(entry).toEqual({
    import: { types: './dist/vitest.d.mts', default: './dist/vitest.mjs' },
    require: { types: './dist/vitest.d.ts', default: './dist/vitest.cjs' },
  });
  // tsc writes dist/vitest.mjs and .d.mts from the .mts source; scripts/build.mjs the other two.
  expect(existsSync(path.join(root, 'src/vitest.mts'))).toBe(true);
  expect(existsSync(path.join(root, 'src/vitest.ts'))).toBe(false);
  expect(pkg.typesVersions['*'].vitest).toEqual(['dist/vitest.d.ts']);
  // vitest is needed only by those who import this entry point.
  expect([pkg.peerDependencies.vitest, pkg.peerDependenciesMeta.vitest]).toEqual([expect.any(String), { optional: true }]);
  expect(pkg.dependencies?.vitest).toBeUndefined();
});

test('main and types agree with exports["."]; only dist is published', () => {
  expect(`./${pkg.main}`).toBe(pkg.exports['.'].require.default);
  expect(`./${pkg.types}`).toBe(pkg.exports['.'].require.types);
  expect(pkg.files).toEqual(['dist']);
});

test('@nestjs/* are optional peer dependencies (Nest 10 and 11, @nestjs/typeorm 10 to 12) that only ./nestjs loads', () => {
  expect(pkg.peerDependencies).toMatchObject({
    '@nestjs/common': '^10.0.0 || ^11.0.0',
    '@nestjs/core': '^10.0.0 || ^11.0.0',
    '@nestjs/typeorm': '^10.0.0 || ^11.0.0 || ^12.0.0',
  });
  for (const name of ['@nestjs/common', '@nestjs/core', '@nestjs/typeorm']) expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
  expect(pkg.dependencies ?? {}).not.toHaveProperty('@nestjs/common');
});
