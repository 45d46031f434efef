export default async function globalTeardown() {
  const server = globalThis.__TSIG_PG__;
  if (server) await server.stop();
  globalThis.__TSIG_WARNINGS__?.check();
}
