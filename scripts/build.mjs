// `npm run build`: compiles src/ to CommonJS in dist/ (tsc -p tsconfig.build.json), then writes
// an ESM entry next to every CommonJS entry that package.json "exports" names:
//
//   dist/index.mjs    import cjs from './index.js'; export const { postSave, ... } = cjs;
//   dist/index.d.mts  export * from './index.js';
//
// The .mjs files only re-export the CommonJS build (as TypeORM's own index.mjs does), so an
// application that both imports and requires typeorm-signals, or whose dependencies do, gets ONE
// module instance: one set of signals, receivers and configuration. The export names are read
// from the built module itself, so a wrapper can never miss one.
//
// One entry point is ECMAScript-only: typeorm-signals/vitest (src/vitest.mts), because vitest
// cannot be require()d. tsc compiles a .mts source to a real ESM .mjs/.d.mts, which imports the
// CommonJS build (one instance again), so there is no wrapper to write; its "require" condition
// gets the same types as a .d.ts (for TypeScript in CommonJS mode, as vitest's own index.d.cts)
// and a .cjs that throws an error saying to import it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const written = [];
for (const [subpath, conditions] of Object.entries(pkg.exports)) {
  if (typeof conditions === 'string') continue; // ./package.json
  const cjs = conditions.require?.default;
  const esm = conditions.import?.default;
  const esmTypes = conditions.import?.types;
  if (!cjs || !esm || !esmTypes) throw new Error(`package.json exports["${subpath}"]: needs import.{types,default} and require.default`);
  if (fs.existsSync(path.join(root, 'src', `${esm.slice('./dist/'.length, -'.mjs'.length)}.mts`))) {
    writeEsmOnly(subpath, conditions);
    continue;
  }
  const cjsFile = path.join(root, cjs);
  const base = `./${path.basename(cjs)}`;
  const names = Object.keys(require(cjsFile)).filter((name) => name !== '__esModule' && name !== 'default');
  const bad = names.filter((name) => !IDENTIFIER.test(name));
  if (bad.length) throw new Error(`${cjs}: export names that ESM cannot re-export by name: ${bad.join(', ')}`);
  const banner = `// ESM entry of ${pkg.name}${subpath === '.' ? '' : subpath.slice(1)}: re-exports the CommonJS build, so import and require share one instance.\n`;
  fs.writeFileSync(
    path.join(root, esm),
    `${banner}import cjs from '${base}';\n\nexport const {\n${names.map((name) => `  ${name},`).join('\n')}\n} = cjs;\n`,
  );
  fs.writeFileSync(path.join(root, esmTypes), `${banner}export * from '${base}';\n`);
  written.push(`${esm} (${names.length} exports)`, esmTypes);
}
/** The "require" side of an ECMAScript-only entry point: the types again, and a clear error. */
function writeEsmOnly(subpath, conditions) {
  const { types: cjsTypes, default: cjs } = conditions.require;
  const { types: esmTypes, default: esm } = conditions.import;
  for (const file of [esm, esmTypes]) {
    if (!fs.existsSync(path.join(root, file))) throw new Error(`package.json exports["${subpath}"]: tsc did not write ${file}`);
  }
  if (!cjs.endsWith('.cjs') || !cjsTypes.endsWith('.d.ts')) throw new Error(`package.json exports["${subpath}"]: an ESM-only entry needs require.{types: *.d.ts, default: *.cjs}`);
  const name = `${pkg.name}${subpath.slice(1)}`;
  fs.copyFileSync(path.join(root, esmTypes), path.join(root, cjsTypes));
  fs.writeFileSync(
    path.join(root, cjs),
    `// ${name} is an ECMAScript module only, as vitest is.\n` +
      `throw new Error(${JSON.stringify(`${name} cannot be loaded with require(): it imports vitest, which is an ECMAScript module only. Use import '${name}' (vitest compiles test files as ECMAScript modules).`)});\n`,
  );
  written.push(`${esm} (ESM-only, compiled by tsc)`, cjsTypes, cjs);
}

console.log(`build: dist/ compiled; ESM wrappers: ${written.join(', ')}`);
