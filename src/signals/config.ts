// Process-wide settings: where failures are reported. Kept apart from `Signal` so the TypeORM
// bridge (commit-phase failures) reports through the same place.

import { trace } from './trace';

/**
 * What the library knows about a failure; it holds names only, never payload values.
 *
 * @example
 * configureSignals({
 *   onReceiverError: (report: FailureReport) => metrics.increment('signal_failures', { signal: report.signal }),
 * });
 */
export interface FailureReport {
  /** The signal's name. */
  signal: string;
  /** The receiver's function name, or '<anonymous>'. */
  receiver: string;
  /** The sender's class name or entity name. */
  sender: string;
  /** Where it happened: 'sendRobust', or the transaction phase of a deferred receiver. */
  context: string;
  /** The error itself, for a logger that chooses to show it. The default logger prints only its name. */
  error: Error;
}

/**
 * Where failures that do not reject the caller are logged (default: console.error).
 *
 * @example
 * const logger: SignalsLogger = { error: (message, report) => pino.error({ signal: report.signal }, message) };
 * configureSignals({ logger });
 */
export interface SignalsLogger {
  /** Called once per failure with a value-free message and its report. */
  error(message: string, report: FailureReport): void;
}

export interface SignalsConfig {
  /** Receives failures that do not reject the caller (sendRobust, commit/rollback receivers). */
  logger: SignalsLogger;
  /** Called for every failure that does not reject the caller, after the logger. */
  onReceiverError?: (report: FailureReport) => void;
}

const defaultLogger: SignalsLogger = {
  error(message) {
    console.error(message);
  },
};

const config: SignalsConfig = { logger: defaultLogger };

const configKeys = new Set(['logger', 'onReceiverError', 'traceValues']);

/**
 * Changes the process-wide settings; keys left out keep their value, `logger: null` restores
 * console.error. Unknown keys are a TypeError, so a typo cannot silently drop error reports.
 *
 * @example
 * configureSignals({
 *   logger: { error: (message) => log.warn(message) },
 *   onReceiverError: (report) => Sentry.captureException(report.error, { tags: { signal: report.signal } }),
 * });
 */
export function configureSignals(options: {
  /** Receives failures that do not reject the caller; null restores console.error. */
  logger?: SignalsLogger | null;
  /** Called for each such failure, after the logger; null removes it. */
  onReceiverError?: ((report: FailureReport) => void) | null;
  /**
   * Include payload values (entities, previous rows, changes) in DEBUG=typeorm-signals trace
   * lines. Off by default, because entities hold personal data; turn it on while debugging only.
   */
  traceValues?: boolean;
}): void {
  for (const key of Object.keys(options)) {
    if (!configKeys.has(key)) {
      throw new TypeError(`configureSignals: unknown option "${key}" (known: ${[...configKeys].join(', ')})`);
    }
  }
  if ('traceValues' in options && typeof options.traceValues !== 'boolean') {
    throw new TypeError(`configureSignals: "traceValues" must be a boolean, got ${typeof options.traceValues}`);
  }
  if ('logger' in options) {
    const logger = options.logger;
    if (logger !== null && (typeof logger !== 'object' || typeof logger?.error !== 'function')) {
      throw new TypeError('configureSignals: "logger" must be an object with an error(message, report) method, or null');
    }
    config.logger = logger ?? defaultLogger;
  }
  if ('onReceiverError' in options) {
    const cb = options.onReceiverError;
    if (cb !== null && cb !== undefined && typeof cb !== 'function') {
      throw new TypeError('configureSignals: "onReceiverError" must be a function or null');
    }
    config.onReceiverError = cb ?? undefined;
  }
  if ('traceValues' in options) trace.showValues = options.traceValues!;
}

/**
 * Reports a receiver failure that must not reject its caller. A logger or callback that throws
 * is itself swallowed: reporting must never turn a handled failure into an unhandled one.
 */
export function reportFailure(report: FailureReport): void {
  const message =
    `typeorm-signals: receiver ${report.receiver} of signal "${report.signal}" failed ` +
    `for sender ${report.sender} (${report.context}): ${report.error.name}`;
  try {
    config.logger.error(message, report);
  } catch {
    // a broken logger must not break the write that is being reported on
  }
  try {
    config.onReceiverError?.(report);
  } catch {
    // same reason as above
  }
}
