// TypeORM awaits subscriber handlers concurrently; a bridge that let receivers overlap on one
// connection would make pg warn "Calling client.query() when the client is already executing a
// query is deprecated". Test code sees only jest's sandboxed `process`, so the check lives here,
// in the main process: a listener for tests run in band, and --redirect-warnings for workers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PATTERN = /already executing a query/;

export function watchPgWarnings() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'typeorm-signals-warnings-')), 'warnings.log');
  const seen = [];
  const onWarning = (warning) => {
    if (PATTERN.test(warning.message)) seen.push(warning.message);
  };
  process.on('warning', onWarning);
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --redirect-warnings=${file}`.trim();
  return {
    /** Throws when any process of the run printed pg's overlapping-query warning. */
    check() {
      process.off('warning', onWarning);
      const redirected = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      const lines = redirected.split('\n').filter((l) => PATTERN.test(l));
      if (seen.length + lines.length > 0) {
        throw new Error(`pg DeprecationWarning during the test run (receivers overlapped on one connection):\n${[...seen, ...lines].join('\n')}`);
      }
    },
  };
}
