import { reportFailure } from './config';
import { SignalsError, describeFunction } from './errors';
import { captureCallSite } from './call-site';
import { checkDispatchUid, checkOptionKeys, checkSender, refuseSend } from './validate';
import { currentScope, isMuted, openEntries, type DispatchEntry } from './scope';
import { disconnectFunction, type Disconnect, type PayloadObject, type Sender, type SendResults } from './types';
import { trace } from './trace';

/**
 * What every receiver of a `Signal<P>` is called with: the payload plus `signal` and `sender`.
 *
 * @example
 * function audit({ signal, sender, userId }: ReceiverArgs<{ userId: number }>) {
 *   console.log(`${signal.name} from ${String(sender)} for user ${userId}`);
 * }
 */
export type ReceiverArgs<P, S = Sender> = Readonly<P> & {
  /** The Signal that was sent. */
  readonly signal: Signal<any>;
  /** Who sent it: the class or name given to send(). */
  readonly sender: S;
};

/**
 * A receiver of a `Signal<P>`: sync or async, its return value is collected by send().
 *
 * @example
 * const sendWelcome: Receiver<{ userId: number; email: string }> = async ({ email }) => {
 *   await mailer.sendWelcome(email);
 * };
 * userRegistered.connect(sendWelcome);
 */
export type Receiver<P, S = Sender> = (args: ReceiverArgs<P, S>) => unknown;

/**
 * The options of `new Signal()`.
 *
 * @example
 * const userRegistered = new Signal<{ userId: number }>({ name: 'userRegistered' });
 */
export interface SignalOptions {
  /** Shown in every error message and log line about this signal. */
  name: string;
}

/**
 * The options of `signal.connect()`.
 *
 * @example
 * userRegistered.connect(auditRegistration, { sender: User, dispatchUid: 'audit:userRegistered' });
 */
export interface ConnectOptions {
  /** Only run for this sender (a class, by identity, or a name). Absent: every sender. */
  sender?: Sender;
  /** Identifies the connection instead of the receiver function, so a module loaded twice connects once. */
  dispatchUid?: string;
  /**
   * Hold the receiver through a WeakRef. Off by default, unlike Django: JavaScript collects
   * garbage whenever it likes, so a weak closure would vanish at an unpredictable moment.
   */
  weak?: boolean;
}

/**
 * The options of `signal.disconnect()`: the same `sender` (and `dispatchUid`) as at connect().
 *
 * @example
 * userRegistered.disconnect(undefined, { sender: User, dispatchUid: 'audit:userRegistered' });
 */
export interface DisconnectOptions {
  /** The sender the receiver was connected with (as in Django, it must be the same). */
  sender?: Sender;
  /** The dispatchUid the receiver was connected with, instead of the receiver. */
  dispatchUid?: string;
}

/**
 * One connection, as `receivers()` shows it.
 *
 * @example
 * for (const { receiver, sender, connectedAt } of postSave.receivers(User)) {
 *   console.log(receiver.name, sender, connectedAt);
 * }
 */
export interface ReceiverInfo<R = Function> {
  /** The receiver function. */
  receiver: R;
  /** The sender it is limited to; undefined: every sender. */
  sender: Sender | undefined;
  /** The dispatchUid it was connected with, if any. */
  dispatchUid: string | undefined;
  /** Whether it is held through a WeakRef. */
  weak: boolean;
  /** The transaction phase (model signals); 'transaction' for plain signals. */
  phase: string;
  /** Whether it receives one call per write with all rows (model signals). */
  batch: boolean;
  /** "file:line" of the code that connected it. */
  connectedAt: string | undefined;
}

/** @internal A connection as the dispatcher keeps it. */
export interface Connection {
  /** The dispatchUid, else the receiver (for a weak one: its WeakRef, see hasKey). */
  readonly key: unknown;
  readonly sender: Sender | undefined;
  readonly dispatchUid: string | undefined;
  readonly weak: boolean;
  readonly phase: string;
  readonly batch: boolean;
  /** Formats "file:line" of the connect() call on first use. */
  readonly connectedAt: () => string | undefined;
  readonly ref: Function | WeakRef<Function>;
}

/** @internal Options after validation. */
export interface NormalizedConnectOptions {
  sender: Sender | undefined;
  dispatchUid: string | undefined;
  weak: boolean;
  phase: string;
  batch: boolean;
}

const NO_CONNECTIONS: readonly Connection[] = Object.freeze([]);

/** The state of one dispatch while its receivers run. */
interface Run {
  readonly found: readonly Connection[];
  readonly args: object;
  readonly sender: Sender;
  readonly phase: string | undefined;
  readonly robust: boolean;
  readonly entries: DispatchEntry[] | undefined;
  /** Whether each outcome goes through settle() (a capture or the trace wants it). */
  readonly record: boolean;
  readonly tracing: boolean;
  readonly results: SendResults<Function>;
}

/**
 * A named event that receivers connect to, with Django's dispatch semantics: receivers run in
 * connection order, one after another; a receiver may be limited to one sender; the same
 * (receiver or dispatchUid, sender) is connected once. Looking up the receivers of a sender is
 * a Map hit, so a send that nobody listens to costs nothing but a resolved promise.
 *
 * @example
 * const userRegistered = new Signal<{ userId: number; email: string }>({ name: 'userRegistered' });
 * userRegistered.connect(async ({ email }) => mailer.sendWelcome(email), { sender: User });
 * await userRegistered.send(User, { userId: 1, email: 'ada@example.com' });
 */
export class Signal<P extends PayloadObject = {}> {
  /** The name given to the constructor, used in every message about this signal. */
  readonly name: string;

  private connections: Connection[] = [];
  private bySender = new Map<Sender, readonly Connection[]>();
  /** The last lookup, in front of bySender (cleared with it). */
  private lastSender: Sender | undefined = undefined;
  private lastFound: readonly Connection[] = NO_CONNECTIONS;
  private weakCount = 0;

  constructor(options: SignalOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('new Signal(): expected an options object { name }');
    }
    for (const key of Object.keys(options)) {
      if (key !== 'name') throw new TypeError(`new Signal(): unknown option "${key}" (known: name)`);
    }
    if (typeof options.name !== 'string' || options.name.trim() === '') {
      throw new TypeError('new Signal(): "name" must be a non-empty string');
    }
    this.name = options.name;
  }

  /**
   * Connects a receiver; returns a function that removes exactly this connection. Connecting the
   * same (receiver or dispatchUid, sender) again changes nothing and returns a function that
   * removes the first connection. Invalid options throw a TypeError and connect nothing.
   */
  connect(receiver: Receiver<P>, options?: ConnectOptions): Disconnect {
    return this.addConnection(receiver, this.normalizeConnectOptions(options, receiver), 'connect');
  }

  /**
   * Removes the connection made with this receiver (or dispatchUid) and this sender; true when one
   * was removed. As in Django the sender must be the one given to connect: `disconnect(fn)` does
   * not remove `connect(fn, { sender: User })`.
   */
  disconnect(receiver?: Function, options: DisconnectOptions = {}): boolean {
    checkOptionKeys(this.name, options, ['sender', 'dispatchUid'], 'disconnect');
    const { sender, dispatchUid } = options;
    if (dispatchUid !== undefined) checkDispatchUid(this.name, dispatchUid, 'disconnect');
    if (sender !== undefined) checkSender(this.name, sender, 'disconnect');
    if (receiver !== undefined && typeof receiver !== 'function') {
      throw new TypeError(`Signal "${this.name}": disconnect() takes the receiver function, got ${typeof receiver}`);
    }
    if (receiver === undefined && dispatchUid === undefined) {
      throw new TypeError(`Signal "${this.name}": disconnect() needs a receiver or a dispatchUid`);
    }
    const key = dispatchUid ?? receiver;
    const index = this.connections.findIndex((c) => hasKey(c, key) && c.sender === sender);
    if (index < 0) return false;
    this.removeConnection(this.connections[index]);
    return true;
  }

  /**
   * With a sender: whether any receiver would run for it (all-sender receivers included).
   * Without: whether any receiver is connected at all.
   */
  hasListeners(sender?: Sender): boolean {
    if (this.connections.length === 0) return false;
    if (sender === undefined) return this.weakCount === 0 || this.connections.some(isAlive);
    checkSender(this.name, sender, 'hasListeners');
    const found = this.lookup(sender);
    return found.length > 0 && (this.weakCount === 0 || found.some(isAlive));
  }

  /**
   * Calls the receivers for this sender in connection order, awaiting each in turn. Resolves to
   * [receiver, result] pairs; the first error rejects and the receivers after it are not called.
   * Receivers connected during the send are not called by it; ones disconnected during it still are.
   */
  send(sender: Sender, payload: P): Promise<SendResults<Receiver<P>>> {
    this.checkSend(sender, payload, 'send');
    const found = this.lookup(sender);
    if (found.length === 0 && currentScope() === undefined) return Promise.resolve([]);
    return this.dispatch(found, sender, payload, undefined, false) as Promise<SendResults<Receiver<P>>>;
  }

  /**
   * Calls every matching receiver even when some fail. Resolves to [receiver, result or Error]
   * pairs (a non-Error throw is wrapped in an Error) and reports each failure to the configured
   * logger with the signal, receiver and sender names; never with payload values.
   */
  sendRobust(sender: Sender, payload: P): Promise<SendResults<Receiver<P>>> {
    this.checkSend(sender, payload, 'sendRobust');
    const found = this.lookup(sender);
    if (found.length === 0 && currentScope() === undefined) return Promise.resolve([]);
    return this.dispatch(found, sender, payload, undefined, true) as Promise<SendResults<Receiver<P>>>;
  }

  /**
   * The connections, in connection order, as plain objects. With a sender: those that would run
   * for it (all-sender receivers included); without: all of them.
   */
  receivers(sender?: Sender): Array<ReceiverInfo<Receiver<P>>> {
    if (sender !== undefined) checkSender(this.name, sender, 'receivers');
    const list = sender === undefined ? this.connections : this.lookup(sender);
    const infos: Array<ReceiverInfo<Receiver<P>>> = [];
    for (const c of list) {
      const receiver = deref(c);
      if (receiver === undefined) continue;
      infos.push({
        receiver: receiver as Receiver<P>,
        sender: c.sender,
        dispatchUid: c.dispatchUid,
        weak: c.weak,
        phase: c.phase,
        batch: c.batch,
        connectedAt: c.connectedAt(),
      });
    }
    return infos;
  }

  /** @internal The live connections for a sender, cached until the next connect/disconnect. */
  lookup(sender: Sender): readonly Connection[] {
    // Sends come in runs for one sender: one compare before the Map.
    if (sender === this.lastSender) return this.lastFound;
    let found = this.bySender.get(sender);
    if (found === undefined) {
      found = this.computeConnections(sender);
      this.bySender.set(sender, found);
    }
    this.lastSender = sender;
    this.lastFound = found;
    return found;
  }

  /**
   * @internal Runs the given connections for one payload, honouring the ambient scope (mute,
   * capture). `robust` turns receiver errors into results; otherwise the first one rejects.
   * Scopes and tracing cost something only while they are in use.
   */
  dispatch(
    found: readonly Connection[],
    sender: Sender,
    payload: object,
    phase: string | undefined,
    robust: boolean,
    // Deferred (commit-phase) dispatches pass the scope of the write, not the one of the COMMIT.
    scope = currentScope(),
    // The model-signal bridge passes the phase's manager/queryRunner/dataSource apart from the
    // row's fields, so that the receivers' arguments are one copy, not two.
    context?: object,
  ): Promise<SendResults<Function>> {
    // Read once per dispatch: the getter asks `debug` every time.
    const tracing = trace.enabled;
    if (scope === undefined && !tracing && found.length === 1) {
      // The common case: one receiver, nothing to record.
      return this.runOne(found[0], argsOf(payload, context, this, sender), sender, phase, robust);
    }
    let entries: DispatchEntry[] | undefined;
    if (scope !== undefined) {
      const muted = isMuted(scope, this, sender, (a, b) => this.senderMatches(a, b));
      // The dispatcher passes only batch connections for a batch call, only per-row ones otherwise.
      const batch = found.length > 0 && found[0].batch;
      entries = openEntries(scope, this, sender, context ? Object.assign({}, payload, context) : payload, phase, muted, batch);
      if (muted) {
        if (tracing && found.length > 0) trace.skipped(this.name, sender, liveReceivers(found), 'muted');
        return Promise.resolve([]);
      }
    }
    if (found.length === 0) return Promise.resolve([]);
    const run: Run = {
      found,
      args: argsOf(payload, context, this, sender),
      sender,
      phase,
      robust,
      entries,
      // Outcomes need recording one by one only for a capture or the trace.
      record: entries !== undefined || tracing,
      tracing,
      results: [],
    };
    return this.runAll(run);
  }

  /**
   * One receiver, no capture, no trace: dispatch() without its bookkeeping. Same outcome as
   * runAll(): [[receiver, result]]; a failure rejects, or under sendRobust is reported and
   * becomes the result.
   */
  private runOne(c: Connection, args: object, sender: Sender, phase: string | undefined, robust: boolean): Promise<SendResults<Function>> {
    const receiver = c.weak ? (c.ref as WeakRef<Function>).deref() : (c.ref as Function);
    if (receiver === undefined) {
      this.pruneDead();
      return Promise.resolve([]);
    }
    let value: unknown;
    let thenable: boolean;
    try {
      value = receiver(args);
      // inside the try: a `then` getter may throw too
      thenable = isThenable(value);
    } catch (thrown) {
      if (!robust) return Promise.reject(toError(thrown, this.name, receiver));
      return Promise.resolve([[receiver, this.failed(receiver, thrown, sender, phase)]]);
    }
    if (!thenable) return Promise.resolve([[receiver, value]]);
    // Without sendRobust a rejection reaches the caller as it is (a non-Error wrapped, see toError).
    if (!robust) return Promise.resolve(value).then((v) => [[receiver, v]], (thrown) => this.rethrow(thrown, receiver));
    return Promise.resolve(value).then(
      (v) => [[receiver, v]],
      (thrown) => [[receiver, this.failed(receiver, thrown, sender, phase)]],
    );
  }

  /**
   * Calls the receivers in order, awaiting each thenable before the next receiver: one async
   * frame for the whole send (`await` on a native promise costs one microtask and no derived
   * promise, where a `then` per receiver cost a promise and closures each).
   */
  private async runAll(run: Run): Promise<SendResults<Function>> {
    const { found, results } = run;
    for (const c of found) {
      const receiver = c.weak ? (c.ref as WeakRef<Function>).deref() : (c.ref as Function);
      if (receiver === undefined) {
        this.pruneDead();
        continue;
      }
      const startedAt = run.tracing ? performance.now() : 0;
      let value: unknown;
      try {
        value = receiver(run.args);
        if (isThenable(value)) value = await value;
      } catch (thrown) {
        if (!this.settle(run, receiver, startedAt, false, thrown)) this.rethrow(thrown, receiver);
        continue;
      }
      if (run.record) this.settle(run, receiver, startedAt, true, value);
      else results.push([receiver, value]);
    }
    return results;
  }

  /**
   * Rejects a send with a receiver's failure: an Error as it is, anything else (a string, a
   * non-native thenable's reason) wrapped in a SignalsError naming the signal and the receiver,
   * so that a failed write never rejects with a bare value that says nothing of its origin.
   */
  private rethrow(thrown: unknown, receiver: Function): never {
    throw toError(thrown, this.name, receiver);
  }

  /** Records one receiver's outcome; false when the failure must reject the send. */
  private settle(run: Run, receiver: Function, startedAt: number, ok: boolean, value: unknown): boolean {
    if (run.entries !== undefined) {
      const outcome = ok
        ? ({ receiver, status: 'returned', result: value } as const)
        : ({ receiver, status: 'threw', error: value } as const);
      for (const e of run.entries) e.receivers.push(outcome);
    }
    if (run.tracing) trace.ran(this.name, run.sender, receiver, run.phase, startedAt, ok ? 'ok' : 'threw', run.args);
    if (ok) {
      run.results.push([receiver, value]);
      return true;
    }
    if (!run.robust) return false;
    run.results.push([receiver, this.failed(receiver, value, run.sender, run.phase)]);
    return true;
  }

  /** A failure under sendRobust: reported to the configured logger, returned as the result. */
  private failed(receiver: Function, thrown: unknown, sender: Sender, phase: string | undefined): Error {
    const error = toError(thrown, this.name, receiver);
    reportFailure({
      signal: this.name,
      receiver: describeFunction(receiver),
      sender: describeFunction(sender),
      context: phase ?? 'sendRobust',
      error,
    });
    return error;
  }

  /** @internal Whether a connection made with `connected` runs for `sender`. */
  senderMatches(connected: Sender, sender: Sender): boolean {
    return connected === sender;
  }

  /** @internal Drops every cached lookup (after connect/disconnect, or when sender aliases change). */
  invalidate(): void {
    this.bySender.clear();
    this.lastSender = undefined;
    this.lastFound = NO_CONNECTIONS;
  }

  /** @internal Adds a validated connection; shared by connect() and receiver(). */
  addConnection(receiver: Function, options: NormalizedConnectOptions, method: string): Disconnect {
    const existing = this.existingConnection(receiver, options, method);
    if (existing !== undefined) return disconnectFunction(() => this.removeConnection(existing));
    const ref = options.weak ? new WeakRef(receiver) : receiver;
    const connection: Connection = {
      // A weak receiver must not be held strongly by its own key, or it could never be collected.
      key: options.dispatchUid ?? ref,
      sender: options.sender,
      dispatchUid: options.dispatchUid,
      weak: options.weak,
      phase: options.phase,
      batch: options.batch,
      connectedAt: captureCallSite(),
      ref,
    };
    // Replace rather than mutate: a send in progress keeps iterating its own snapshot.
    this.connections = [...this.connections, connection];
    if (options.weak) this.weakCount++;
    this.invalidate();
    return disconnectFunction(() => this.removeConnection(connection));
  }

  /**
   * @internal The connection already made with this (receiver or dispatchUid, sender), if any.
   * Throws a SignalsError when it was made with other phase, batch or weak settings; receiver()
   * calls it for every signal before connecting to any, so a conflict connects nothing.
   */
  existingConnection(receiver: Function, options: NormalizedConnectOptions, method: string): Connection | undefined {
    const key = options.dispatchUid ?? receiver;
    const existing = this.connections.find((c) => hasKey(c, key) && c.sender === options.sender);
    if (existing !== undefined && (existing.phase !== options.phase || existing.batch !== options.batch || existing.weak !== options.weak)) {
      throw new SignalsError(
        `Signal "${this.name}": ${method}() of receiver ${describeFunction(receiver)} for sender ` +
          `${options.sender === undefined ? '(all)' : describeFunction(options.sender)} is already connected with ` +
          `phase "${existing.phase}", batch ${existing.batch}, weak ${existing.weak}; disconnect it first to change them`,
      );
    }
    return existing;
  }

  /**
   * @internal Validates connect() options. Subclasses extend `allowedOptionKeys` and
   * `checkExtraOption` (model signals add phase and batch).
   */
  normalizeConnectOptions(options: unknown, receiver: unknown): NormalizedConnectOptions {
    if (typeof receiver !== 'function') {
      throw new TypeError(`Signal "${this.name}": connect() needs a function as receiver, got ${receiver === null ? 'null' : typeof receiver}`);
    }
    if (options === undefined) return { sender: undefined, dispatchUid: undefined, weak: false, phase: 'transaction', batch: false };
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new TypeError(`Signal "${this.name}": connect() options must be an object, got ${options === null ? 'null' : typeof options}`);
    }
    const o = options as Record<string, unknown>;
    checkOptionKeys(this.name, o, this.allowedOptionKeys(), 'connect');
    if (o.sender !== undefined) checkSender(this.name, o.sender, 'connect');
    if (o.dispatchUid !== undefined) checkDispatchUid(this.name, o.dispatchUid, 'connect');
    if (o.weak !== undefined && typeof o.weak !== 'boolean') {
      throw new TypeError(`Signal "${this.name}": connect() option "weak" must be a boolean, got ${typeof o.weak}`);
    }
    return {
      sender: o.sender as Sender | undefined,
      dispatchUid: o.dispatchUid as string | undefined,
      weak: o.weak === true,
      phase: this.checkPhase(o.phase),
      batch: this.checkBatch(o.batch),
    };
  }

  /** @internal The connect() option keys this signal accepts. */
  protected allowedOptionKeys(): readonly string[] {
    return ['sender', 'dispatchUid', 'weak'];
  }

  /** @internal Plain signals run receivers when sent: a phase cannot be chosen. */
  protected checkPhase(phase: unknown): string {
    if (phase !== undefined) {
      throw new TypeError(
        `Signal "${this.name}": option "phase" is only for the post* model signals (postSave, postDelete, ...); ` +
          'a plain Signal runs its receivers when it is sent',
      );
    }
    return 'transaction';
  }

  /** @internal Plain signals send one payload at a time: batch receivers are for model signals. */
  protected checkBatch(batch: unknown): boolean {
    if (batch !== undefined) {
      throw new TypeError(`Signal "${this.name}": option "batch" is only for model signals (postSave, ...), which send one write's rows together`);
    }
    return false;
  }

  /** @internal Validates a send's arguments; shared with the TypeORM bridge's hand-sent checks. */
  checkSend(sender: unknown, payload: unknown, method: string): void {
    // Every send passes here: one small test for valid arguments (small enough to be inlined
    // into send), the messages are built only when it fails.
    if (
      (typeof sender === 'function' || (typeof sender === 'string' && sender !== '')) &&
      typeof payload === 'object' &&
      payload !== null &&
      !('signal' in payload) &&
      !('sender' in payload) &&
      !Array.isArray(payload)
    ) {
      return;
    }
    refuseSend(this.name, sender, payload, method);
  }

  private computeConnections(sender: Sender): readonly Connection[] {
    const found = this.connections.filter((c) => c.sender === undefined || this.senderMatches(c.sender, sender));
    return found.length === 0 ? NO_CONNECTIONS : found;
  }

  private removeConnection(connection: Connection): boolean {
    const index = this.connections.indexOf(connection);
    if (index < 0) return false;
    this.connections = this.connections.filter((c) => c !== connection);
    if (connection.weak) this.weakCount--;
    this.invalidate();
    return true;
  }

  private pruneDead(): void {
    for (const c of this.connections) if (!isAlive(c)) this.removeConnection(c);
  }
}

/**
 * What receivers are called with: the payload's own enumerable properties, then signal and
 * sender, frozen so that no receiver can change what the next one sees. Object.assign onto an
 * empty object takes V8's clone fast path; object spread is far slower on Node 20 here.
 */
function argsOf(payload: object, context: object | undefined, signal: Signal<any>, sender: Sender): object {
  const args = (context === undefined ? Object.assign({}, payload) : Object.assign({}, payload, context)) as Record<string, unknown>;
  args.signal = signal;
  args.sender = sender;
  return Object.freeze(args);
}

function deref(c: Connection): Function | undefined {
  return c.weak ? (c.ref as WeakRef<Function>).deref() : (c.ref as Function);
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

/** Whether a connection was made with this dispatchUid, or (without one) this receiver. */
function hasKey(c: Connection, key: unknown): boolean {
  return c.key === key || (c.key === c.ref && c.weak && deref(c) === key);
}

function isAlive(c: Connection): boolean {
  return deref(c) !== undefined;
}

/** @internal */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** @internal Wraps a non-Error throw so callers can rely on an Error (name, message, stack). */
export function toError(thrown: unknown, signalName: string, receiver: Function): Error {
  if (thrown instanceof Error) return thrown;
  return new SignalsError(
    `Signal "${signalName}": receiver ${describeFunction(receiver)} threw a non-Error value (${thrown === null ? 'null' : typeof thrown})`,
    { cause: thrown },
  );
}
