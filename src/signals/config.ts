// Process-wide settings: where failures are reported. Kept apart from `Signal` so the TypeORM
// bridge (commit-phase failures) reports through the same place.

import { trace } from './trace';

/**
 * What the library knows about a failure; it holds names and places only, never payload values.
 * The error itself is passed along for a logger that chooses to show more.
 *
 * @example
 * configureSignals({
 *   onReceiverError: (report: FailureReport) =>
 *     metrics.increment('signal_failures', { signal: report.signal, error: report.errorClass, code: String(report.code ?? '') }),
 * });
 */
export interface FailureReport {
  /** The signal's name (for onCommit/onRollback callbacks: 'onCommit' or 'onRollback'). */
  signal: string;
  /** The receiver's function name, or '<anonymous>'. */
  receiver: string;
  /** The sender's class name or entity name. */
  sender: string;
  /** Where it happened: 'sendRobust', or the transaction phase of a deferred receiver. */
  context: string;
  /** The error's class: its constructor's name (MailError, QueryFailedError), else its `name`. */
  errorClass: string;
  /** The error's `code` when it has a short one ('ECONNREFUSED', PostgreSQL's '23505'); codes name a kind of failure, not a value. */
  code?: string | number;
  /** "file:line" of the code that connected the receiver, when known. */
  connectedAt?: string;
  /** The error itself, for a logger that chooses to show it. The default message leaves its text out unless `logErrorMessages` is on. */
  error: Error;
  /** Durable receivers: which attempt failed (1 = the first; retries follow the receiver's retry policy). */
  attempt?: number;
  /** Durable receivers: the job id, the same on every attempt. */
  deliveryId?: string;
}

/**
 * Where failures that do not reject the caller are logged (default: console.error).
 *
 * @example
 * const logger: SignalsLogger = { error: (message, report) => pino.error({ signal: report.signal }, message) };
 * configureSignals({ logger });
 */
export interface SignalsLogger {
  /** Called once per failure with a message (value-free unless `logErrorMessages` is on) and its report. */
  error(message: string, report: FailureReport): void;
}

/** @internal The process-wide settings. */
export interface SignalsConfig {
  /** Receives failures that do not reject the caller (sendRobust, commit/rollback receivers). */
  logger: SignalsLogger;
  /** Called for every failure that does not reject the caller, after the logger. */
  onReceiverError?: (report: FailureReport) => void;
  /** Whether the logger's message ends with the error's message. */
  logErrorMessages: boolean;
  /** More receivers than this from one call site, for one signal and sender, warn (0: never). */
  maxReceiversPerCallSite: number;
}

const defaultLogger: SignalsLogger = {
  error(message) {
    console.error(message);
  },
};

/** As Node's EventEmitter.defaultMaxListeners: the 11th receiver from one call site warns. */
const DEFAULT_MAX_RECEIVERS_PER_CALL_SITE = 10;

/** @internal The current settings (read by the signals; changed only through configureSignals). */
export const config: SignalsConfig = { logger: defaultLogger, logErrorMessages: false, maxReceiversPerCallSite: DEFAULT_MAX_RECEIVERS_PER_CALL_SITE };

const configKeys = new Set(['logger', 'onReceiverError', 'traceValues', 'logErrorMessages', 'maxReceiversPerCallSite']);

/**
 * The options of configureSignals(); every key is optional and keys left out keep their value.
 *
 * @example
 * const development: SignalsSettings = { logErrorMessages: true, traceValues: true };
 * configureSignals(development);
 */
export interface SignalsSettings {
  /** Receives failures that do not reject the caller; null restores console.error. */
  logger?: SignalsLogger | null;
  /** Called for each such failure, after the logger; null removes it. */
  onReceiverError?: ((report: FailureReport) => void) | null;
  /**
   * Include payload values (entities, previous rows, changes) in DEBUG=typeorm-signals trace
   * lines. Off by default, because entities hold personal data; turn it on while debugging only.
   */
  traceValues?: boolean;
  /**
   * End each failure line given to the logger with the error's message. Off by default, because
   * messages often hold values (a mail provider's refusal names the address); for development.
   */
  logErrorMessages?: boolean;
  /**
   * Warn (process warning TYPEORM_SIGNALS_MAX_RECEIVERS, once per call site) when one line of
   * code has connected more than this many receivers, each a different function, to one signal
   * and sender without a dispatchUid: a connect inside a request handler or a loop. Default 10,
   * as Node's EventEmitter; 0 turns the warning off.
   */
  maxReceiversPerCallSite?: number;
}

/**
 * Changes the process-wide settings; keys left out keep their value, `logger: null` restores
 * console.error. Unknown keys and bad values are a TypeError and change nothing, so a typo
 * cannot silently drop error reports.
 *
 * @example
 * configureSignals({
 *   logger: { error: (message) => log.warn(message) },
 *   onReceiverError: (report) => Sentry.captureException(report.error, { tags: { signal: report.signal } }),
 * });
 * // In development: failure lines with the error's message.
 * if (process.env.NODE_ENV === 'development') configureSignals({ logErrorMessages: true });
 */
export function configureSignals(options: SignalsSettings): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`configureSignals(): expected an options object, got ${options === null ? 'null' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!configKeys.has(key)) {
      throw new TypeError(`configureSignals(): unknown option "${key}" (known: ${[...configKeys].join(', ')})`);
    }
  }
  for (const key of ['traceValues', 'logErrorMessages'] as const) {
    if (key in options && typeof options[key] !== 'boolean') {
      throw new TypeError(`configureSignals(): "${key}" must be a boolean, got ${typeof options[key]}`);
    }
  }
  const limit = options.maxReceiversPerCallSite;
  if ('maxReceiversPerCallSite' in options && (typeof limit !== 'number' || !(limit >= 0) || !Number.isInteger(limit))) {
    throw new TypeError(
      `configureSignals(): "maxReceiversPerCallSite" must be a whole number >= 0 (0 turns the warning off), got ${typeof limit === 'number' ? limit : typeof limit}`,
    );
  }
  const logger = options.logger;
  if ('logger' in options && logger !== null && (typeof logger !== 'object' || typeof logger?.error !== 'function')) {
    throw new TypeError('configureSignals(): "logger" must be an object with an error(message, report) method, or null');
  }
  const cb = options.onReceiverError;
  if ('onReceiverError' in options && cb !== null && cb !== undefined && typeof cb !== 'function') {
    throw new TypeError('configureSignals(): "onReceiverError" must be a function or null');
  }
  // Everything is valid: only now change anything.
  if ('logger' in options) config.logger = logger ?? defaultLogger;
  if ('onReceiverError' in options) config.onReceiverError = cb ?? undefined;
  if ('traceValues' in options) trace.showValues = options.traceValues!;
  if ('logErrorMessages' in options) config.logErrorMessages = options.logErrorMessages!;
  if ('maxReceiversPerCallSite' in options) config.maxReceiversPerCallSite = limit!;
}

/** @internal The FailureReport fields that describe the error: its class and short code. */
export function describeError(error: Error): Pick<FailureReport, 'errorClass' | 'code'> {
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  const errorClass = typeof ctor === 'string' && ctor !== '' && ctor !== 'Object' ? ctor : error.name;
  const code = (error as { code?: unknown }).code;
  // Only identifier-like codes: a code that is free text could carry a value.
  const short = (typeof code === 'string' && /^[\w.:-]{1,64}$/.test(code)) || (typeof code === 'number' && Number.isFinite(code));
  return short ? { errorClass, code: code as string | number } : { errorClass };
}

function failureMessage(report: FailureReport): string {
  const error = `${report.errorClass}${report.code === undefined ? '' : ` (code ${report.code})`}`;
  const text = config.logErrorMessages && report.error.message ? `: ${report.error.message}` : '';
  if (report.signal === 'onCommit' || report.signal === 'onRollback') {
    // Callbacks of onCommit()/onRollback() belong to no signal and no sender.
    return `typeorm-signals: ${report.signal}() callback ${report.receiver} failed: ${error}${text}`;
  }
  const where = report.connectedAt ? ` (connected at ${report.connectedAt})` : '';
  return (
    `typeorm-signals: receiver ${report.receiver}${where} of signal "${report.signal}" failed ` +
    `for sender ${report.sender} (${report.context}): ${error}${text}`
  );
}

/**
 * Reports a receiver failure that must not reject its caller. A logger or callback that throws
 * is itself swallowed: reporting must never turn a handled failure into an unhandled one.
 */
export function reportFailure(fields: Omit<FailureReport, 'errorClass' | 'code'>): void {
  const report: FailureReport = { ...fields, ...describeError(fields.error) };
  if (report.connectedAt === undefined) delete report.connectedAt;
  const message = failureMessage(report);
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
