/**
 * `npm run test:vitest`: the docs' example test (docs/testing.md) under vitest 4, with
 * `import 'typeorm-signals/vitest'` as users write it, on a real PostgreSQL database.
 *
 * The package is the BUILT one (npm run build first; the script does it): `typeorm-signals` and
 * its subpaths resolve through package.json "exports" (the "import" condition, as vitest
 * resolves a dependency) to dist/, so dist/vitest.mjs, the real ESM entry, is what runs. The
 * example application (src/example) and the test helpers are TypeScript that vite compiles;
 * their imports of the library's sources (`../index`) are sent to the same built CommonJS
 * modules that dist/*.mjs re-export, so the test, the example and the matchers share one
 * instance of the library, as in a user's project. dist/ is loaded by Node itself, not
 * transformed, as a dependency in node_modules would be.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const src = path.join(root, 'src') + path.sep;
const dist = path.join(root, 'dist') + path.sep;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { import?: { default?: string } }>;
};

function builtPackage(): Plugin {
  return {
    name: 'typeorm-signals-built-package',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      // typeorm-signals, typeorm-signals/testing, typeorm-signals/vitest: package.json "exports".
      if (source === pkg.name || source.startsWith(`${pkg.name}/`)) {
        const entry = pkg.exports[`.${source.slice(pkg.name.length)}`];
        const file = typeof entry === 'object' ? entry.import?.default : undefined;
        if (!file) throw new Error(`${source}: not in package.json "exports" (or no "import" condition)`);
        return builtFile(path.join(root, file));
      }
      // The library's sources imported by the example application: the built module instead.
      if (!importer || !source.startsWith('.')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      const id = resolved?.id;
      if (!id?.startsWith(src) || id.startsWith(path.join(src, 'example') + path.sep)) return resolved;
      return builtFile(path.join(dist, id.slice(src.length).replace(/\.m?ts$/, (ext) => (ext === '.mts' ? '.mjs' : '.js'))));
    },
  };
}

function builtFile(file: string) {
  if (!existsSync(file)) throw new Error(`${path.relative(root, file)} is missing: run npm run build first (npm run test:vitest does)`);
  return { id: file, external: true };
}

export default defineConfig({
  root,
  plugins: [builtPackage()],
  test: {
    include: ['test/vitest/**/*.test.ts'],
    // vitest's default, stated: no global expect, so only typeorm-signals/vitest can register.
    globals: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    server: { deps: { external: [/\/dist\//] } },
  },
});
