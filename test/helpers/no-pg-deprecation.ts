// TypeORM awaits subscriber handlers concurrently; a bridge that let receivers overlap on one
// connection would make pg warn "Calling client.query() when the client is already executing a
// query is deprecated". Node emits a warning once per process, so every test file checks it.
const warnings: string[] = [];
const onWarning = (warning: Error) => {
  if (warning.name === 'DeprecationWarning' && /client\.query|already executing/i.test(warning.message)) warnings.push(warning.message);
};
process.on('warning', onWarning);

afterAll(() => {
  process.off('warning', onWarning);
  expect(warnings).toEqual([]);
});
