// A require hook for the child processes of the reliability tests: `node -r ./test/reliability/ts-hook.cjs
// script.ts`. It transpiles each .ts file alone (typescript's transpileModule, what ts-node
// --transpile-only does, decorators and their metadata included) and keeps the output in a disk
// cache keyed by the file's path, size and mtime, so that the hundred short-lived writer and
// worker processes of durable.reliability.ts start in well under a second each instead of the
// ~4 s ts-node takes to transpile src/ every time (connect-cycles.cjs uses it too). No source
// maps: the children run as compiled JavaScript would.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CACHE = path.join(os.tmpdir(), 'typeorm-signals-ts-hook-cache');
let ts;

function transpile(source, filename) {
  ts ??= require('typescript');
  return ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
    },
  }).outputText;
}

require.extensions['.ts'] = function compileTs(module, filename) {
  const stat = fs.statSync(filename);
  const key = crypto.createHash('sha1').update(`${filename}\0${stat.size}\0${stat.mtimeMs}`).digest('hex');
  const cached = path.join(CACHE, `${key}.js`);
  let output;
  try {
    output = fs.readFileSync(cached, 'utf8');
  } catch {
    output = transpile(fs.readFileSync(filename, 'utf8'), filename);
    fs.mkdirSync(CACHE, { recursive: true });
    // Written aside and renamed: a process starting at the same time never reads half a file.
    const partial = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(partial, output);
    fs.renameSync(partial, cached);
  }
  module._compile(output, filename);
};
