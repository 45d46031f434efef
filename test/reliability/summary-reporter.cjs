// Prints the reliability summary once, at the end of `npm run test:reliability`, from the figures
// the tests wrote (test/reliability/helpers.ts recordFigures) to the folder the global set-up made.
// Nothing here is a constant: a section whose test did not record its figures says so.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const sections = [
  ['load', 'load.reliability.ts'],
  ['atomicity', 'atomicity.reliability.ts'],
  ['faults', 'faults.reliability.ts'],
  ['recursion', 'recursion.reliability.ts'],
  ['bad input', 'bad-input.reliability.ts'],
  ['memory', 'memory.reliability.ts'],
  ['security', 'security.reliability.ts'],
  ['durable', 'durable.reliability.ts'],
];

const n = (x) => (typeof x === 'number' ? x.toLocaleString('en-US') : String(x));
const s1 = (seconds) => `${seconds.toFixed(1)} s`;
const mb = (bytes) => `${bytes >= 0 ? '+' : ''}${(bytes / 1048576).toFixed(2)} MB`;

function read(dir, name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
  } catch {
    return undefined;
  }
}

const lines = {
  load(f) {
    return [
      `${n(f.signups)} concurrent signups through a pool of ${f.pool} (peak ${f.peakConnections} connections, ${n(f.peakWaiting)} waiting): ` +
        `${n(f.users)} users, ${n(f.profiles)} profiles, ${f.errors} errors, ${f.duplicates} duplicates; commit receiver ran ${n(f.commitRuns)} times; ${s1(f.seconds)}`,
    ];
  },
  atomicity(f) {
    return [
      `${n(f.signups)} signups, ${f.failed} failed by a transaction-phase receiver (seeded PRNG ${f.seed}, ${f.failureRate * 100}%): ` +
        `${n(f.users)} users = ${n(f.profiles)} profiles, ${f.failedLeftRows} rows left by failed signups;`,
      `commit receivers ran for ${f.commitSetMatches ? 'exactly' : 'NOT exactly'} the ${n(f.committed)} committed (${n(f.commitReceiverRuns)} runs), ` +
        `rollback receivers for ${f.rollbackSetMatches ? 'exactly' : 'NOT exactly'} the ${f.failed} failed; ${s1(f.seconds)}`,
    ];
  },
  faults(f, restart) {
    const out = [];
    for (const k of (f && f.kills) || []) {
      if (k.where === 'under load') {
        out.push(
          `server process killed in ${k.killed} of ${k.signups} concurrent signups: ${k.rejected} rejected, ${k.committed} committed, ` +
            `commit receivers ran ${k.commitRuns} times, rollback receivers ${k.rollbackRuns}, ${k.partialRows} partial rows, next ${k.nextSignups} signups ok`,
        );
      } else {
        const e = k.error || {};
        out.push(
          `server process killed ${k.where} (commit receivers of ${k.queuedCommitReceivers} row${k.queuedCommitReceivers === 1 ? '' : 's'} and an onCommit queued): rejected with ${e.name}${e.code ? ` ${e.code}` : ''}, ` +
            `${k.commitRuns} commit / ${k.rollbackRuns} rollback receivers ran, ${k.partialRows} partial rows, next ${k.nextSignups} signups ok`,
        );
      }
    }
    if (restart) {
      out.push(
        `server stopped and started (own embedded instance, down ${n(restart.downMs)} ms) under 10 signup loops: ${n(restart.resolvedBefore)} committed before, ` +
          `${n(restart.failed)} failed while down (${restart.errorKinds.join(', ')}), first success ${n(restart.recoveredMs)} ms after the start, ${n(restart.resolvedAfter)} committed after;`,
        `${restart.lost} committed signups lost, ${n(restart.users)} users = ${n(restart.profiles)} profiles, commit receivers ran for exactly the committed ` +
          `(${restart.commitMismatch} mismatches), ${restart.committedUnacknowledged} committed without acknowledgement`,
      );
    } else {
      out.push('server restart: not measured (its test did not record figures)');
    }
    return out;
  },
  recursion(f) {
    const cases = f.cases || [];
    const first = cases[0] && cases[0].error ? cases[0].error : '';
    return [
      `${cases.length} recursive receiver set-ups stopped at depth ${f.maxDepth} with a SignalsError, ` +
        `${cases.reduce((t, c) => t + c.rowsWritten, 0)} rows written: ${cases.map((c) => c.case).join('; ')}`,
      `"${first.length > 150 ? `${first.slice(0, 150)}...` : first}"`,
    ];
  },
  'bad input'(f) {
    return [
      `${f.tried} bad inputs tried, ${f.clear} rejected with a clear error, ${f.rowsLost} rows lost ` +
        `(${f.inWrite} inside a write: ${f.halfWritten} rows half-written; receivers unchanged after ${f.registryUnchanged}/${f.tried}; logger kept: ${f.loggerKept ? 'yes' : 'NO'})`,
    ];
  },
  memory(f) {
    const out = [];
    if (f.cycles !== undefined) out.push(`${n(f.cycles)} connect/disconnect cycles: heap ${mb(f.cyclesGrowth)} after GC (${s1(f.cyclesMs / 1000)}, plain node)`);
    if (f.transactions !== undefined) {
      out.push(
        `${n(f.transactions)} transactions with commit receivers and onCommit: heap ${mb(f.transactionsGrowth)} after GC, ` +
          `${n(f.receiverRuns)} receiver / ${n(f.callbackRuns)} onCommit runs, ${f.leftQueued} runners with queued work, ${f.transactionsFailed} failed (${s1(f.transactionsSeconds)})`,
      );
    }
    if (f.weakConnected !== undefined) out.push(`${n(f.weakCollected)}/${n(f.weakConnected)} weak receivers collected, ${f.weakListed + f.weakModelListed} still listed`);
    return out;
  },
  security(f) {
    return [
      `${f.checked} error messages, log lines, logger reports and DEBUG trace lines from ${f.failures + 2} failing writes checked: ${f.leaked} held an entity value;`,
      `${f.refused}/${f.changeAttempts} changes to a frozen payload refused; instance is the caller's entity: ${f.instanceIsEntity ? 'yes' : 'NO'}; ` +
        `a preSave change to it was persisted: ${f.preSaveChangePersisted ? 'yes' : 'NO'}`,
    ];
  },
  durable(f) {
    const out = [];
    const w = f.writerKills;
    if (w) {
      out.push(
        `writer process SIGKILLed right after COMMIT ${w.killed}/${w.kills} times (${w.committed} writes committed, ${s1(w.killSeconds)}): ` +
          `durable receiver ran for ${w.durableRan} (${w.durableLost} lost, ${w.durableRows - w.durableRan} twice, ${w.byWorker} in the worker process);`,
        `  the same receiver with phase 'commit' ran for ${w.commitRan}: ${w.commitLost} of ${w.committed} lost`,
      );
    }
    const k = f.workerKills;
    if (k) {
      out.push(
        `worker process SIGKILLed inside the receiver ${k.victims}/${k.kills} times: ${k.completed} jobs completed, ${k.effectRows} effect rows for ${k.distinctJobs} jobs ` +
          `(${k.byVictims} left by a killed worker), ${k.retried} retries used; claimed again and running ${k.reclaimMedianMs.toFixed(1)} ms after the kill ` +
          `(median; ${k.reclaimMinMs.toFixed(1)}-${k.reclaimMaxMs.toFixed(1)} ms; target ${n(k.targetMs)} ms)`,
      );
    }
    const r = f.rollbacks;
    if (r) {
      const kinds = Object.keys(r).filter((key) => key !== 'rolledBackRows');
      out.push(
        `rolled-back writes: ${kinds.map((key) => `${key} ${r[key].writes} -> ${r[key].jobs - r[key].committed} jobs`).join(', ')}; ` +
          `${r['savepoint rollback'] ? r['savepoint rollback'].jobs : '?'} jobs for the committed writes beside the savepoints, ${r.rolledBackRows} rolled-back rows`,
      );
    }
    const p = f.poison;
    if (p) {
      out.push(
        `poison job (retry limit ${p.retryLimit}, delay 0): ${p.attempts} attempts, ${p.reports} onReceiverError reports (attempts ${p.reportAttempts.join(', ')}), ` +
          `job ${p.state} after ${p.retryCount} retries, ${p.deadLettered} in the dead-letter queue`,
      );
    }
    const b = f.bulk;
    if (b) {
      out.push(
        `2 worker processes over ${n(b.jobs)} jobs: ${n(b.distinct)} done (${b.perWorker.map(n).join(' + ')}), ${b.duplicates} duplicate effects, ${b.left} left; ` +
          `${s1(b.seconds)} from the first of 10 saves of 1,000 users to the last job done (the saves: ${s1(b.insertSeconds)}; ${n(Math.round(b.jobsPerSecond))} jobs/s overall)`,
      );
    }
    return out;
  },
};

class ReliabilitySummaryReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
  }

  onRunComplete(_contexts, results) {
    const dir = process.env.TSIG_RELIABILITY_FIGURES;
    const env = (dir && read(dir, 'environment')) || {};
    const cpus = os.cpus();
    const status = new Map();
    for (const file of results.testResults) {
      status.set(path.basename(file.testFilePath), file.numFailingTests > 0 || file.testExecError ? 'FAILED' : 'passed');
    }
    const out = [];
    const rule = '='.repeat(100);
    out.push('', rule, 'typeorm-signals reliability summary (npm run test:reliability)', rule);
    out.push(
      `machine   : ${cpus[0] ? cpus[0].model.trim() : 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GB RAM, ` +
        `${os.type()} ${os.release()}, Node ${process.version}`,
    );
    out.push(
      `database  : PostgreSQL ${env.postgres || '(unknown)'}, ${env.database === 'embedded' ? 'embedded (no DATABASE_URL)' : 'server from DATABASE_URL'}`,
    );
    sections.forEach(([name, file], i) => {
      const key = name === 'bad input' ? 'badInput' : name;
      const figures = dir ? read(dir, key) : undefined;
      const state = status.get(file) || 'not run';
      const label = `${i + 1}. ${name}`.padEnd(14);
      let body;
      if (name === 'faults') body = figures || read(dir, 'restart') ? lines.faults(figures, dir && read(dir, 'restart')) : undefined;
      else body = figures ? lines[name](figures) : undefined;
      if (!body) body = [`not measured (${state})`];
      const mark = state === 'passed' ? '' : ` [${state}]`;
      body.forEach((line, j) => out.push(`${j === 0 ? label : ' '.repeat(14)}${line}${j === 0 ? mark : ''}`));
    });
    const seconds = (Date.now() - results.startTime) / 1000;
    out.push(
      `tests     : ${results.numPassedTests} passed, ${results.numFailedTests} failed, in ${results.numTotalTestSuites} files; ${seconds.toFixed(1)} s`,
      rule,
      '',
    );
    process.stdout.write(out.join('\n'));
  }
}

module.exports = ReliabilitySummaryReporter;
