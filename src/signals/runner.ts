// The receiver runner: calls a list of connections for one payload, with Django's semantics
// (connection order, one after another, the first error rejects unless robust), and honours the
// ambient scope (withoutSignals mutes, captureSignals records) and the DEBUG trace. `Signal.send`
// and the TypeORM bridge both call deliver() with one Delivery; what a phase or a batch means is
// the caller's business: here they are labels for the trace, the failure report and the record.

import { reportFailure } from './config';
import { SignalsError, describeFunction } from './errors';
import { currentScope, isMuted, openEntries, receiverMutes, type DispatchEntry, type ScopeState } from './scope';
import { trace } from './trace';
import type { Sender, SendResults } from './types';

/** @internal A connection as a signal keeps it. */
export interface Connection {
  /** The dispatchUid, else the receiver (for a weak one: its WeakRef, see hasKey in signal.ts). */
  readonly key: unknown;
  readonly sender: Sender | undefined;
  readonly dispatchUid: string | undefined;
  readonly weak: boolean;
  /** What a subclass of Signal keeps per connection (model signals: phase and batch); undefined for a plain Signal. */
  readonly meta: unknown;
  /** Formats "file:line" of the connect() call on first use. */
  readonly connectedAt: () => string | undefined;
  readonly ref: Function | WeakRef<Function>;
}

/** @internal What the runner needs of the signal it runs receivers for. */
export interface DeliveringSignal {
  readonly name: string;
  /** Whether a mute rule's sender covers this sender (model signals: entity names too). */
  senderMatches(connected: Sender, sender: Sender): boolean;
  /** Drops connections whose weak receiver was collected. */
  pruneDead(): void;
}

/**
 * @internal Where deliver() notes the receiver it is about to call, for a caller that must know
 * which receiver is running while it runs (the TypeORM bridge's other-connection check).
 */
export interface RunningReceiver {
  signal: DeliveringSignal | undefined;
  sender: Sender | undefined;
  connection: Connection | undefined;
}

/** @internal One send: which receivers run, with what, and how failures end. */
export interface Delivery {
  readonly signal: DeliveringSignal;
  /** The connections to call, in order (already looked up for the sender). */
  readonly connections: readonly Connection[];
  readonly sender: Sender;
  readonly payload: object;
  /**
   * Fields assigned over the payload's (the model bridge's manager/queryRunner/dataSource of the
   * phase), kept apart so that the receivers' arguments are one copy, not two.
   */
  readonly context?: object;
  /** The caller's phase label (trace, failure report, capture record); undefined for a plain send. */
  readonly phase?: string;
  /** Receiver errors become results and are reported, instead of rejecting with the first. */
  readonly robust: boolean;
  /** A call of batch receivers (payload `{ items }`), as a capture records it. */
  readonly batch?: boolean;
  /** The scope to honour; absent: the current one. Deferred sends pass the scope of the write. */
  readonly scope?: ScopeState;
  /** Noted with each receiver before it is called. */
  readonly running?: RunningReceiver;
  /**
   * Builds the receivers' args (unfrozen) for a payload whose shape the caller knows: it must
   * give the object argsOf()'s Object.assign would, the same own keys in the same order with the
   * same values. One object literal is several times faster than Object.assign for a model
   * signal's ten payload fields and three context fields.
   */
  readonly copy?: ArgsCopy;
}

/** @internal See Delivery.copy. */
export type ArgsCopy = (payload: any, context: any, signal: DeliveringSignal, sender: Sender) => object;

/** The state of one delivery while its receivers run. */
interface Run {
  readonly delivery: Delivery;
  /** The delivery's connections less those a withoutSignals({ receivers }) scope mutes. */
  readonly connections: readonly Connection[];
  readonly args: object;
  readonly entries: DispatchEntry[] | undefined;
  /** Whether each outcome goes through record() (a capture or the trace wants it). */
  readonly record: boolean;
  readonly tracing: boolean;
  readonly results: SendResults<Function>;
}

/**
 * @internal Runs a delivery's connections for its payload. Resolves to [receiver, result] pairs;
 * without `robust` the first failure rejects. Scopes and tracing cost something only while they
 * are in use.
 */
export function deliver(delivery: Delivery): Promise<SendResults<Function>> {
  const { signal, sender } = delivery;
  let connections = delivery.connections;
  const scope = delivery.scope ?? currentScope();
  // Read once per delivery: the getter asks `debug` every time.
  const tracing = trace.enabled;
  if (scope === undefined && !tracing && connections.length === 1) {
    // The common case: one receiver, nothing to record.
    return runOne(delivery, connections[0], argsOf(delivery));
  }
  let entries: DispatchEntry[] | undefined;
  if (scope !== undefined) {
    const matches = (a: Sender, b: Sender) => signal.senderMatches(a, b);
    let muted = isMuted(scope, signal, sender, matches);
    const byReceiver = muted || connections.length === 0 ? undefined : receiverMutes(scope, signal, sender, matches);
    if (byReceiver !== undefined) {
      const kept = connections.filter((c) => !byReceiver.some((selected) => selects(selected, c)));
      if (tracing && kept.length < connections.length) {
        trace.skipped(signal.name, sender, liveReceivers(connections.filter((c) => !kept.includes(c))), 'muted');
      }
      // Every receiver of the send muted: recorded as a muted send, as a whole-send mute is.
      muted = kept.length === 0;
      connections = kept;
    }
    const recorded = delivery.context ? Object.assign({}, delivery.payload, delivery.context) : delivery.payload;
    entries = openEntries(scope, { signal, sender, payload: recorded, phase: delivery.phase, batch: delivery.batch === true, muted });
    if (muted) {
      if (tracing && byReceiver === undefined && connections.length > 0) trace.skipped(signal.name, sender, liveReceivers(connections), 'muted');
      return Promise.resolve([]);
    }
  }
  if (connections.length === 0) return Promise.resolve([]);
  return runAll({
    delivery,
    connections,
    args: argsOf(delivery),
    entries,
    // Outcomes need recording one by one only for a capture or the trace.
    record: entries !== undefined || tracing,
    tracing,
    results: [],
  });
}

/**
 * @internal deliver() for a caller that runs many deliveries in a row (the TypeORM bridge's
 * flush, one per row) and awaits only when it must. Without a scope or the trace, receivers are
 * called at once, one after another; while they return no thenable they have all run when this
 * returns undefined: no promise, no microtask. From the first thenable on, the rest runs as
 * deliver() would (each thenable awaited before the next receiver) and a promise comes back.
 * The [receiver, result] pairs go to `results` when given. A failure throws (or rejects) as
 * deliver() would reject; under `robust` it is reported and becomes the result. With a scope or
 * the trace: deliver() itself.
 */
export function deliverNow(delivery: Delivery, results?: SendResults<Function>): Promise<unknown> | undefined {
  const scope = delivery.scope ?? currentScope();
  if (scope !== undefined || trace.enabled) {
    const ran = deliver(delivery);
    return results === undefined ? ran : ran.then((pairs) => void results.push(...pairs));
  }
  const { connections } = delivery;
  if (connections.length === 0) return undefined;
  const args = argsOf(delivery);
  for (let i = 0; i < connections.length; i++) {
    const c = connections[i];
    const receiver = deref(c);
    if (receiver === undefined) {
      delivery.signal.pruneDead();
      continue;
    }
    if (delivery.running !== undefined) noteRunning(delivery, c);
    let value: unknown;
    try {
      value = receiver(args);
      // inside the try: a `then` getter may throw too
      if (isThenable(value)) {
        const rest: Run = { delivery, connections: connections.slice(i + 1), args, entries: undefined, record: false, tracing: false, results: results ?? [] };
        return settleThenRun(rest, c, receiver, value);
      }
    } catch (thrown) {
      if (!delivery.robust) throw toError(thrown, delivery.signal.name, receiver);
      // reported whether or not the caller keeps the results
      const error = failed(delivery, c, receiver, thrown);
      results?.push([receiver, error]);
      continue;
    }
    results?.push([receiver, value]);
  }
  return undefined;
}

/** deliverNow() once a receiver returned a thenable: awaits it, then runs the rest. */
async function settleThenRun(rest: Run, c: Connection, receiver: Function, pending: PromiseLike<unknown>): Promise<unknown> {
  const { delivery, results } = rest;
  try {
    results.push([receiver, await pending]);
  } catch (thrown) {
    if (!delivery.robust) throw toError(thrown, delivery.signal.name, receiver);
    results.push([receiver, failed(delivery, c, receiver, thrown)]);
  }
  return rest.connections.length === 0 ? undefined : runAll(rest);
}

/**
 * One receiver, no capture, no trace: runAll() without its bookkeeping. Same outcome:
 * [[receiver, result]]; a failure rejects, or under `robust` is reported and becomes the result.
 */
function runOne(delivery: Delivery, c: Connection, args: object): Promise<SendResults<Function>> {
  const receiver = deref(c);
  if (receiver === undefined) {
    delivery.signal.pruneDead();
    return Promise.resolve([]);
  }
  if (delivery.running !== undefined) noteRunning(delivery, c);
  let value: unknown;
  let thenable: boolean;
  try {
    value = receiver(args);
    // inside the try: a `then` getter may throw too
    thenable = isThenable(value);
  } catch (thrown) {
    if (!delivery.robust) return Promise.reject(toError(thrown, delivery.signal.name, receiver));
    return Promise.resolve([[receiver, failed(delivery, c, receiver, thrown)]]);
  }
  if (!thenable) return Promise.resolve([[receiver, value]]);
  // Without robust a rejection reaches the caller as it is (a non-Error wrapped, see toError).
  if (!delivery.robust) {
    return Promise.resolve(value).then(
      (v) => [[receiver, v]],
      (thrown) => {
        throw toError(thrown, delivery.signal.name, receiver);
      },
    );
  }
  return Promise.resolve(value).then(
    (v) => [[receiver, v]],
    (thrown) => [[receiver, failed(delivery, c, receiver, thrown)]],
  );
}

/**
 * Calls the receivers in order, awaiting each thenable before the next receiver: one async
 * frame for the whole send (`await` on a native promise costs one microtask and no derived
 * promise, where a `then` per receiver cost a promise and closures each).
 */
async function runAll(run: Run): Promise<SendResults<Function>> {
  const { delivery, results } = run;
  for (const c of run.connections) {
    const receiver = deref(c);
    if (receiver === undefined) {
      delivery.signal.pruneDead();
      continue;
    }
    if (delivery.running !== undefined) noteRunning(delivery, c);
    const startedAt = run.tracing ? performance.now() : 0;
    let value: unknown;
    try {
      value = receiver(run.args);
      if (isThenable(value)) value = await value;
    } catch (thrown) {
      if (run.record) record(run, receiver, startedAt, false, thrown);
      // An Error as it is; anything else wrapped, so that a failed write never rejects with a
      // bare value that says nothing of its origin.
      if (!delivery.robust) throw toError(thrown, delivery.signal.name, receiver);
      results.push([receiver, failed(delivery, c, receiver, thrown)]);
      continue;
    }
    if (run.record) record(run, receiver, startedAt, true, value);
    results.push([receiver, value]);
  }
  return results;
}

function noteRunning(delivery: Delivery, c: Connection): void {
  const running = delivery.running!;
  running.signal = delivery.signal;
  running.sender = delivery.sender;
  running.connection = c;
}

/** Adds one receiver's outcome to the capture entries and the trace. */
function record(run: Run, receiver: Function, startedAt: number, ok: boolean, value: unknown): void {
  if (run.entries !== undefined) {
    const outcome = ok ? ({ receiver, status: 'returned', result: value } as const) : ({ receiver, status: 'threw', error: value } as const);
    for (const e of run.entries) e.receivers.push(outcome);
  }
  const { delivery } = run;
  if (run.tracing) trace.ran(delivery.signal.name, delivery.sender, receiver, delivery.phase, startedAt, ok ? 'ok' : 'threw', run.args);
}

/** A failure under `robust`: reported to the configured logger (with where it was connected), returned as the result. */
function failed(delivery: Delivery, c: Connection, receiver: Function, thrown: unknown): Error {
  const error = toError(thrown, delivery.signal.name, receiver);
  reportFailure({
    signal: delivery.signal.name,
    receiver: describeFunction(receiver),
    sender: describeFunction(delivery.sender),
    context: delivery.phase ?? 'sendRobust',
    connectedAt: c.connectedAt(),
    error,
  });
  return error;
}

/**
 * What receivers are called with: the payload's own enumerable properties, then the context's,
 * then signal and sender, frozen so that no receiver can change what the next one sees.
 * Object.assign onto an empty object takes V8's clone fast path; object spread is far slower on
 * Node 20 here.
 */
function argsOf({ payload, context, signal, sender, copy }: Delivery): object {
  if (copy !== undefined) return Object.freeze(copy(payload, context, signal, sender));
  const args = (context === undefined ? Object.assign({}, payload) : Object.assign({}, payload, context)) as Record<string, unknown>;
  args.signal = signal;
  args.sender = sender;
  return Object.freeze(args);
}

/** @internal The receiver of a connection; undefined when it was weak and is collected. */
export function deref(c: Connection): Function | undefined {
  return c.weak ? (c.ref as WeakRef<Function>).deref() : (c.ref as Function);
}

/** @internal Whether a set of receivers (functions and dispatchUids) holds this connection's. */
export function selects(selected: ReadonlySet<unknown>, c: Connection): boolean {
  return (c.dispatchUid !== undefined && selected.has(c.dispatchUid)) || selected.has(deref(c));
}

/** @internal The receiver functions of connections that are still alive. */
export function liveReceivers(found: readonly Connection[]): Function[] {
  const out: Function[] = [];
  for (const c of found) {
    const fn = deref(c);
    if (fn !== undefined) out.push(fn);
  }
  return out;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Wraps a non-Error throw so callers can rely on an Error (name, message, stack). */
function toError(thrown: unknown, signalName: string, receiver: Function): Error {
  if (thrown instanceof Error) return thrown;
  return new SignalsError(
    `Signal "${signalName}": receiver ${describeFunction(receiver)} threw a non-Error value (${thrown === null ? 'null' : typeof thrown})`,
    { cause: thrown },
  );
}
