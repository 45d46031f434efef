import { Signal } from '../../src';
test('a receiver gets sender and payload', async () => {
  const s = new Signal<{ n: number }>({ name: 'smoke' });
  const seen: number[] = [];
  s.connect(({ n }) => { seen.push(n); });
  await s.send('x', { n: 1 });
  expect(seen).toEqual([1]);
  expect(process.env.DATABASE_URL).toMatch(/^postgres:/);
});
