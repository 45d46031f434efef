import { captureCallSite } from './call-site';
import { config } from './config';
import { describeFunction } from './errors';
import { deref, type Connection } from './runner';
import type { Sender } from './types';

/**
 * Warnings about connects that keep adding receivers or keep an old one, in the style of Node's
 * MaxListenersExceededWarning: a process warning, once per call site. Both cases fail silently
 * otherwise: a connect() inside a request handler adds a receiver per request (each one runs on
 * every later send), and a dispatchUid connect after a hot reload or a re-wiring is skipped, so the
 * old function keeps running.
 */

/** @internal Process warning code: one call site connected more receivers than the limit. */
export const MAX_RECEIVERS_CODE = 'TYPEORM_SIGNALS_MAX_RECEIVERS';
/** @internal Process warning code: a dispatchUid connect with another function was skipped. */
export const DISPATCH_UID_KEPT_CODE = 'TYPEORM_SIGNALS_DISPATCH_UID_KEPT';

// Per signal and sender, the warnings already given (their call sites), so that each warns once.
const warned = new WeakMap<object, Map<Sender | undefined, Set<string>>>();

function firstTime(signal: object, sender: Sender | undefined, key: string): boolean {
  let bySender = warned.get(signal);
  if (bySender === undefined) warned.set(signal, (bySender = new Map()));
  let keys = bySender.get(sender);
  if (keys === undefined) bySender.set(sender, (keys = new Set()));
  if (keys.has(key)) return false;
  keys.add(key);
  return true;
}

function forSender(sender: Sender | undefined): string {
  return sender === undefined ? 'every sender' : `sender ${describeFunction(sender)}`;
}

function emit(message: string, code: string): void {
  process.emitWarning(message, { type: 'TypeormSignalsWarning', code });
}

/**
 * @internal After `added` (without a dispatchUid) joined `connections`: warns once when its call
 * site has connected more receivers than the limit for its signal and sender. Counting by sender
 * comes first and costs a loop; call sites (formatted from the stack, slower under source maps)
 * are read only once that count is over the limit.
 */
export function checkConnectCount(signal: { readonly name: string }, connections: readonly Connection[], added: Connection): void {
  const limit = config.maxReceiversPerCallSite;
  if (limit === 0) return;
  let sameSender = 0;
  for (const c of connections) if (c.dispatchUid === undefined && c.sender === added.sender) sameSender++;
  if (sameSender <= limit) return;
  const site = added.connectedAt();
  if (site === undefined) return;
  let atSite = 0;
  for (const c of connections) if (c.dispatchUid === undefined && c.sender === added.sender && c.connectedAt() === site) atSite++;
  if (atSite <= limit || !firstTime(signal, added.sender, `count ${site}`)) return;
  emit(
    `Possible receiver leak: ${atSite} receivers, each a different function, are connected to signal "${signal.name}" for ` +
      `${forSender(added.sender)} from one line, ${site}, without a dispatchUid (the limit is ${limit}); each of them runs on every send. ` +
      'A connect() inside a request handler, a loop or a function called per test adds one every time: connect once at start-up, ' +
      'disconnect what you connected (connect() returns the disconnect function), or pass a dispatchUid so that a repeated connect is skipped. ' +
      'configureSignals({ maxReceiversPerCallSite }) changes the limit (0: no warning).',
    MAX_RECEIVERS_CODE,
  );
}

/**
 * @internal A connect with a dispatchUid that is already connected was skipped: warns once per
 * call site when it brought another function than the one that stays connected.
 */
export function checkSkippedDispatchUid(signal: { readonly name: string }, existing: Connection, receiver: Function, method: string): void {
  const kept = deref(existing);
  if (kept === undefined || kept === receiver) return;
  const site = captureCallSite()();
  if (!firstTime(signal, existing.sender, `uid ${existing.dispatchUid} ${site ?? ''}`)) return;
  const uid = JSON.stringify(existing.dispatchUid);
  const keptAt = existing.connectedAt();
  const senderOption = existing.sender === undefined ? '' : `, sender: ${typeof existing.sender === 'string' ? JSON.stringify(existing.sender) : describeFunction(existing.sender)}`;
  emit(
    `Signal "${signal.name}": ${method}() with dispatchUid ${uid} for ${forSender(existing.sender)}${site ? ` at ${site}` : ''} was skipped: ` +
      `that dispatchUid is already connected${keptAt ? ` (at ${keptAt})` : ''} to another function, ${describeFunction(kept)}, which stays ` +
      `connected and keeps running; the function given here, ${describeFunction(receiver)}, never runs. A dispatchUid keeps the first ` +
      'connection (as in Django), so after a hot reload or a re-wiring with new dependencies the old function is the one that runs: ' +
      `disconnect it first (${signal.name}.disconnect(undefined, { dispatchUid: ${uid}${senderOption} })), then connect the new one.`,
    DISPATCH_UID_KEPT_CODE,
  );
}
