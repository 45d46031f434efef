/**
 * Prints bench/results.json (written by `npm run bench`) as the Markdown table of bench/README.md's
 * "Latest full run" section:
 *
 *   node -r ts-node/register/transpile-only bench/report.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BenchResults } from './results';


const results = JSON.parse(fs.readFileSync(path.join(__dirname, 'results.json'), 'utf8')) as BenchResults;
const m = results.machine;
const out: string[] = [];
const fmt = (n: number) => n.toLocaleString('en-US');
const status = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : '**missed**');
const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;

out.push(
  `Measured on ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB), ${m.os}, Node ${m.node}, TypeORM ${m.typeorm}, ` +
    `PostgreSQL ${m.postgres} (${m.postgresServer}), ${results.date.slice(0, 16).replace('T', ' ')} UTC, commit ${results.commit ?? '?'}` +
    `${results.dirty ? ' (with uncommitted changes in src/)' : ''}; load average ${m.loadavgStart.join(' ')} at the start, ` +
    `${m.loadavgEnd.join(' ')} at the end; one full run of \`npm run bench\` (${Math.round(results.durationS / 60)} min).`,
  '',
  '| | N | variant | wall ms | CPU ms | wall ratio | CPU ratio | CPU per-round ratios | target (CPU) | |',
  '|---|---:|---|---:|---:|---:|---:|---|---|---|',
);
for (const c of results.comparisons) {
  c.variants.forEach((v, i) => {
    const head = i === 0 ? `${c.id} | ${fmt(c.n)}` : ' | ';
    out.push(`| ${head} | ${v.label} | ${v.medianMs.toFixed(1)} | ${v.cpuMedianMs?.toFixed(1) ?? ''} | | | | | |`);
  });
  for (const r of c.ratios) {
    const signed = (us: number) => `${us >= 0 ? '+' : ''}${us.toFixed(0)}`;
    const delta = r.deltaPerCallUs === undefined ? '' : ` (${signed(r.deltaPerCallUs)} µs wall, ${signed(r.cpuDeltaPerCallUs ?? 0)} µs CPU per call)`;
    const cpu = r.cpuValue === undefined ? '' : `**${r.cpuValue.toFixed(2)}×**`;
    out.push(`| | | *${r.label}*${delta} | | | ${r.value.toFixed(2)}× | ${cpu} | ${r.cpuPerRound ? spread(r.cpuPerRound) : ''} | ${r.target ?? ''} | ${status(r.met)} |`);
  }
}
if (results.dispatch.ratios) {
  for (const r of results.dispatch.ratios) {
    // In memory and single-threaded: its ns/op ratios are CPU ratios.
    out.push(`| e | | *${r.key}* | | | | **${r.value.toFixed(2)}×** | | ${r.target === '(info)' ? '' : r.target} | ${r.target === '(info)' ? '' : status(r.ok)} |`);
  }
}
out.push('');
if (results.dispatch.rows) {
  out.push(
    'Dispatch micro-benchmarks from the same run (the `bench/dispatch-results.json` that `npm run bench` wrote, kept under ' +
      `\`dispatch\` in \`bench/results.json\`; medians of ${results.dispatch.settings?.rounds ?? '?'} rounds):`,
    '',
  );
  out.push('| key | row | ns/op |', '|---|---|---:|');
  for (const r of results.dispatch.rows) out.push(`| ${r.key} | ${r.label} | ${r.nsPerOp.toFixed(1)} |`);
  out.push('');
} else {
  out.push(`Dispatch micro-benchmarks: not run (${results.dispatch.error ?? 'unknown'}).`, '');
}
console.log(out.join('\n'));
