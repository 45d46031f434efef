/**
 * Compile-time tests for the Signal types. Never run: `tsc --noEmit` checks this file (see
 * test/unit/typecheck.test.ts). Every `@ts-expect-error` line must really be an error, or tsc
 * fails with "Unused '@ts-expect-error' directive"; every other line must compile.
 */
import {
  Signal,
  SignalsError,
  configureSignals,
  receiver,
  type Disconnect,
  type FailureReport,
  type Receiver,
  type ReceiverArgs,
  type ReceiverInfo,
  type SendResults,
} from '../../src';

class User {
  id = 1;
}

interface Registered {
  userId: number;
  email: string;
}

const registered = new Signal<Registered>({ name: 'userRegistered' });
const cancelled = new Signal<{ userId: number; reason?: string }>({ name: 'subscriptionCancelled' });

// ---- Correct usages: these must compile. ----

const off: Disconnect = registered.connect(({ userId, email, signal, sender }) => {
  const id: number = userId;
  const address: string = email;
  const name: string = signal.name;
  const from: Function | string = sender;
  return [id, address, name, from];
});
const removed: boolean = off();

registered.connect(async ({ email }) => email.toUpperCase(), { sender: User, dispatchUid: 'welcome-mail', weak: false });
registered.connect(() => undefined, { sender: 'User' });
registered.connect(() => undefined, {});
registered.connect(() => undefined);

const typed: Receiver<Registered> = (args: ReceiverArgs<Registered>) => args.userId;
registered.connect(typed);
registered.disconnect(typed);
registered.disconnect(typed, { sender: User });
registered.disconnect(undefined, { dispatchUid: 'welcome-mail' });

const has: boolean = registered.hasListeners(User) || registered.hasListeners() || registered.hasListeners('User');

async function sending(): Promise<void> {
  const results: SendResults<Receiver<Registered>> = await registered.send(User, { userId: 1, email: 'a@example.com' });
  for (const [fn, result] of results) {
    const r: Receiver<Registered> = fn;
    const value: unknown = result;
    void [r, value];
  }
  await registered.sendRobust('User', { userId: 1, email: 'a@example.com' });
  await cancelled.send(User, { userId: 1 }); // optional field left out
  await cancelled.send(User, { userId: 1, reason: 'price' });
}

const infos: Array<ReceiverInfo<Receiver<Registered>>> = registered.receivers(User);
const firstPhase: string | undefined = infos[0]?.phase;

// receiver(): one signal or several; the receiver's argument is typed from the signal(s).
const onRegistered = receiver(registered, { sender: User }, ({ userId, email }) => `${userId}:${email}`);
const sameFn: (args: ReceiverArgs<Registered>) => string = onRegistered;
receiver([registered, cancelled], undefined, ({ userId, signal }) => `${signal.name}:${userId}`);

configureSignals({
  logger: { error: (message: string, report: FailureReport) => void [message, report.signal, report.receiver, report.sender, report.error] },
  onReceiverError: (report) => void report.context,
});
configureSignals({ logger: null, onReceiverError: null });

const wrongState: Error = new SignalsError('x');

// ---- Errors: each line below must fail to compile. ----

// @ts-expect-error a payload field of the wrong type
void registered.send(User, { userId: '1', email: 'a@example.com' });
// @ts-expect-error a payload without a required field
void registered.send(User, { userId: 1 });
// @ts-expect-error a payload with a field the signal does not declare
void registered.send(User, { userId: 1, email: 'a@example.com', password: 'x' });
// @ts-expect-error the payload is required
void registered.send(User);
// @ts-expect-error a sender that is neither a class nor a name
void registered.send(42, { userId: 1, email: 'a@example.com' });

// @ts-expect-error a receiver destructuring a field the payload does not have
registered.connect(({ username }) => username);
registered.connect(({ email }) => {
  // @ts-expect-error email is a string, not a number
  const n: number = email;
  return n;
});
registered.connect((args) => {
  // @ts-expect-error receivers get a read-only payload
  args.userId = 2;
});

// @ts-expect-error "signal" is reserved: every receiver gets it from the dispatcher
new Signal<{ signal: string }>({ name: 'bad' });
// @ts-expect-error "sender" is reserved too
new Signal<{ sender: Function; id: number }>({ name: 'bad' });

// @ts-expect-error weak is a boolean
registered.connect(() => undefined, { weak: 'yes' });
// @ts-expect-error dispatchUid is a string
registered.connect(() => undefined, { dispatchUid: 7 });
// @ts-expect-error sender is a class or a name
registered.connect(() => undefined, { sender: 1 });
// @ts-expect-error a typo in an option name
registered.connect(() => undefined, { sendr: User });
// @ts-expect-error phase is for model signals only
registered.connect(() => undefined, { phase: 'afterCommit' });
// @ts-expect-error the receiver is a function
registered.connect('handler');
// @ts-expect-error new Signal needs a name
new Signal({});
// @ts-expect-error configureSignals knows no such key
configureSignals({ loger: null });
// @ts-expect-error receiver() types the function from the signal
receiver(registered, undefined, ({ username }) => username);
// @ts-expect-error with several signals, only fields every one of them sends can be destructured
receiver([registered, cancelled], undefined, ({ email }) => email);
// @ts-expect-error receiver() with a wrong option type
receiver(registered, { weak: 1 }, () => undefined);

export { removed, has, sending, firstPhase, sameFn, wrongState };
