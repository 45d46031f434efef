// DEBUG=typeorm-signals tracing. Lines name the signal, sender, receiver, phase and duration,
// and why a receiver did not run (muted, connected for other senders, queued for commit, dropped
// by a rollback); payload values appear only after `configureSignals({ traceValues: true })`,
// because entities hold personal data.

import createDebug from 'debug';
import { describeFunction } from './errors';
import type { Sender } from './types';

const log = createDebug('typeorm-signals');

/**
 * A class rather than an object literal: V8 keeps a literal with a getter in dictionary mode,
 * which made every `trace.enabled` read on the send path a slow property lookup.
 */
class Trace {
  /** Include payload values in trace lines. Off by default: entities hold personal data. */
  showValues = false;

  /** Whether DEBUG enables the namespace; asks `debug` on every read, so read it once per send. */
  get enabled(): boolean {
    return log.enabled;
  }

  ran(signal: string, sender: Sender, receiver: Function, phase: string | undefined, startedAt: number, outcome: 'ok' | 'threw', args: object): void {
    const ms = (performance.now() - startedAt).toFixed(3);
    log(
      '%s sender=%s receiver=%s phase=%s %s in %sms%s',
      signal,
      describeFunction(sender),
      describeFunction(receiver),
      phase ?? 'send',
      outcome,
      ms,
      this.showValues ? ` payload=${safeJson(args)}` : '',
    );
  }

  skipped(signal: string, sender: Sender, receivers: readonly Function[], reason: string): void {
    const names = receivers.map(describeFunction).join(', ');
    log('%s sender=%s not run (%s): %s', signal, describeFunction(sender), reason, names || '(no receivers)');
  }

  note(message: string): void {
    log(message);
  }
}

export const trace = new Trace();

function safeJson(args: object): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(args, (key, value) => {
      if (key === 'manager' || key === 'queryRunner' || key === 'dataSource' || key === 'metadata' || key === 'signal') return undefined;
      if (typeof value === 'function') return describeFunction(value);
      if (typeof value === 'object' && value !== null) {
        if (seen.has(value)) return '[circular]';
        seen.add(value);
      }
      return value;
    });
  } catch {
    return '[unserializable]';
  }
}
