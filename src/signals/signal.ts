import { SignalsError, describeFunction } from './errors';
import { captureCallSite } from './call-site';
import { checkConnectCount, checkSkippedDispatchUid } from './runaway';
import { deliver, deref, type Connection } from './runner';
import { checkDispatchUid, checkOptionKeys, checkSender, refuseSend, refuseSubclassOptions } from './validate';
import { currentScope } from './scope';
import { disconnectFunction, type Disconnect, type PayloadObject, type Sender, type SendResults } from './types';

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
  /**
   * The DataSource a model-signal receiver is limited to (its `dataSource` option); undefined:
   * every DataSource. Always undefined for a plain Signal.
   */
  dataSource: object | undefined;
}

/** @internal Options after validation. */
export interface NormalizedConnectOptions {
  sender: Sender | undefined;
  dispatchUid: string | undefined;
  weak: boolean;
  /** What the subclass keeps per connection (see connectionMeta). */
  meta: unknown;
}

/** @internal How receivers() and the conflict message describe a connection's subclass settings. */
export interface ConnectionSettings {
  readonly phase: string;
  readonly batch: boolean;
  /** Model signals' `dataSource` option: part of the connection's identity, like the sender. */
  readonly dataSource?: object;
}

const NO_CONNECTIONS: readonly Connection[] = Object.freeze([]);

// A plain Signal runs its receivers when it is sent, one payload at a time.
const PLAIN: ConnectionSettings = Object.freeze({ phase: 'transaction', batch: false });

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
    checkOptionKeys(this.name, options, this.disconnectOptionKeys(), 'disconnect');
    const { sender, dispatchUid } = options;
    const dataSource = (options as { dataSource?: object }).dataSource;
    if (dispatchUid !== undefined) checkDispatchUid(this.name, dispatchUid, 'disconnect');
    if (sender !== undefined) checkSender(this.name, sender, 'disconnect');
    if (receiver !== undefined && typeof receiver !== 'function') {
      throw new TypeError(`Signal "${this.name}": disconnect() takes the receiver function, got ${typeof receiver}`);
    }
    if (receiver === undefined && dispatchUid === undefined) {
      throw new TypeError(`Signal "${this.name}": disconnect() needs a receiver or a dispatchUid`);
    }
    const key = dispatchUid ?? receiver;
    const index = this.connections.findIndex((c) => hasKey(c, key) && c.sender === sender && this.settingsOf(c.meta).dataSource === dataSource);
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
    return deliver({ signal: this, connections: found, sender, payload, robust: false }) as Promise<SendResults<Receiver<P>>>;
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
    return deliver({ signal: this, connections: found, sender, payload, robust: true }) as Promise<SendResults<Receiver<P>>>;
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
      const { phase, batch, dataSource } = this.settingsOf(c.meta);
      infos.push({
        receiver: receiver as Receiver<P>,
        sender: c.sender,
        dispatchUid: c.dispatchUid,
        weak: c.weak,
        phase,
        batch,
        connectedAt: c.connectedAt(),
        dataSource,
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

  /**
   * @internal Adds a validated connection; shared by connect(), receiver() and the NestJS
   * module, which passes the call site of its decorator as `connectedAt`.
   */
  addConnection(receiver: Function, options: NormalizedConnectOptions, method: string, connectedAt = captureCallSite()): Disconnect {
    const existing = this.existingConnection(receiver, options, method);
    if (existing !== undefined) {
      if (options.dispatchUid !== undefined) checkSkippedDispatchUid(this, existing, receiver, method);
      return disconnectFunction(() => this.removeConnection(existing));
    }
    const ref = options.weak ? new WeakRef(receiver) : receiver;
    const connection: Connection = {
      // A weak receiver must not be held strongly by its own key, or it could never be collected.
      key: options.dispatchUid ?? ref,
      sender: options.sender,
      dispatchUid: options.dispatchUid,
      weak: options.weak,
      meta: options.meta,
      connectedAt,
      ref,
    };
    // Replace rather than mutate: a send in progress keeps iterating its own snapshot.
    this.connections = [...this.connections, connection];
    countConnection(connection, receiver, 1);
    if (options.weak) this.weakCount++;
    this.invalidate();
    if (options.dispatchUid === undefined) checkConnectCount(this, this.connections, connection);
    return disconnectFunction(() => this.removeConnection(connection));
  }

  /**
   * @internal The connection already made with this (receiver or dispatchUid, sender), if any.
   * Throws a SignalsError when it was made with other settings (weak, or a model signal's phase
   * and batch); receiver() calls it for every signal before connecting to any, so a conflict
   * connects nothing.
   */
  existingConnection(receiver: Function, options: NormalizedConnectOptions, method: string): Connection | undefined {
    const key = options.dispatchUid ?? receiver;
    const now = this.settingsOf(options.meta);
    const existing = this.connections.find((c) => hasKey(c, key) && c.sender === options.sender && this.settingsOf(c.meta).dataSource === now.dataSource);
    if (existing === undefined) return undefined;
    const was = this.settingsOf(existing.meta);
    if (was.phase !== now.phase || was.batch !== now.batch || existing.weak !== options.weak) {
      const uid = options.dispatchUid === undefined ? '' : ` with dispatchUid ${JSON.stringify(options.dispatchUid)}`;
      const forSender = options.sender === undefined ? 'every sender' : `sender ${describeFunction(options.sender)}`;
      throw new SignalsError(
        `Signal "${this.name}": ${method}() of receiver ${describeFunction(receiver)}${uid} for ${forSender} asks for ` +
          `phase "${now.phase}", batch ${now.batch}, weak ${options.weak}, but that connection exists with ` +
          `phase "${was.phase}", batch ${was.batch}, weak ${existing.weak}; disconnect it first to change them`,
      );
    }
    return existing;
  }

  /**
   * @internal Validates connect() options. Subclasses extend `allowedOptionKeys` and
   * `connectionMeta` (model signals add phase and batch).
   */
  normalizeConnectOptions(options: unknown, receiver: unknown): NormalizedConnectOptions {
    if (typeof receiver !== 'function') {
      throw new TypeError(`Signal "${this.name}": connect() needs a function as receiver, got ${receiver === null ? 'null' : typeof receiver}`);
    }
    if (options === undefined) return { sender: undefined, dispatchUid: undefined, weak: false, meta: this.connectionMeta({}) };
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new TypeError(`Signal "${this.name}": connect() options must be an object, got ${options === null ? 'null' : typeof options}`);
    }
    const o = options as Record<string, unknown>;
    const allowed = this.allowedOptionKeys();
    checkOptionKeys(this.name, o, allowed, 'connect');
    if (o.sender !== undefined) checkSender(this.name, o.sender, 'connect');
    if (o.dispatchUid !== undefined) checkDispatchUid(this.name, o.dispatchUid, 'connect');
    if (o.weak !== undefined && typeof o.weak !== 'boolean') {
      throw new TypeError(`Signal "${this.name}": connect() option "weak" must be a boolean, got ${typeof o.weak}`);
    }
    refuseSubclassOptions(this.name, o, allowed);
    return {
      sender: o.sender as Sender | undefined,
      dispatchUid: o.dispatchUid as string | undefined,
      weak: o.weak === true,
      meta: this.connectionMeta(o),
    };
  }

  /** @internal The connect() option keys this signal accepts. */
  protected allowedOptionKeys(): readonly string[] {
    return ['sender', 'dispatchUid', 'weak'];
  }

  /** @internal The disconnect() option keys this signal accepts (model signals add dataSource). */
  protected disconnectOptionKeys(): readonly string[] {
    return ['sender', 'dispatchUid'];
  }

  /** @internal What a subclass keeps per connection, from the validated options; nothing for a plain Signal. */
  protected connectionMeta(_options: Record<string, unknown>): unknown {
    return undefined;
  }

  /** @internal The phase and batch settings of a connection's meta, as receivers() shows them. */
  protected settingsOf(_meta: unknown): ConnectionSettings {
    return PLAIN;
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
    countConnection(connection, deref(connection), -1);
    if (connection.weak) this.weakCount--;
    this.invalidate();
    return true;
  }

  /** @internal Drops the connections whose weak receiver was collected. */
  pruneDead(): void {
    for (const c of this.connections) if (!isAlive(c)) this.removeConnection(c);
  }
}

// Connections per receiver function and per dispatchUid, over every Signal: a receivers list of
// withoutSignals()/captureSignals() must name receivers that are connected somewhere.
const receiverCounts = new WeakMap<Function, number>();
const dispatchUidCounts = new Map<string, number>();

function countConnection(c: Connection, receiver: Function | undefined, delta: 1 | -1): void {
  if (receiver !== undefined) {
    const n = (receiverCounts.get(receiver) ?? 0) + delta;
    if (n > 0) receiverCounts.set(receiver, n);
    else receiverCounts.delete(receiver);
  }
  if (c.dispatchUid !== undefined) {
    const n = (dispatchUidCounts.get(c.dispatchUid) ?? 0) + delta;
    if (n > 0) dispatchUidCounts.set(c.dispatchUid, n);
    else dispatchUidCounts.delete(c.dispatchUid);
  }
}

/** @internal Whether this function is the receiver of a connection of some Signal. */
export function isConnectedReceiver(fn: Function): boolean {
  return (receiverCounts.get(fn) ?? 0) > 0;
}

/** @internal The dispatchUids connections are made with right now, over every Signal. */
export function connectedDispatchUids(): string[] {
  return [...dispatchUidCounts.keys()];
}

/** Whether a connection was made with this dispatchUid, or (without one) this receiver. */
function hasKey(c: Connection, key: unknown): boolean {
  return c.key === key || (c.key === c.ref && c.weak && deref(c) === key);
}

function isAlive(c: Connection): boolean {
  return deref(c) !== undefined;
}
