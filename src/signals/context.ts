import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';

/**
 * Where deferred work (commit and rollback receivers, onCommit/onRollback callbacks) runs: outside
 * the async context of the transaction that has just ended, but inside the library's own scopes.
 *
 * Why not a context captured "before the transaction" (at BEGIN, or when the write queued its
 * work): CLS-based transaction libraries open their context *before* they call TypeORM's
 * `transaction()`, then mutate the store of that context. @nestjs-cls/transactional runs
 * `cls.run(() => adapter.wrapWithTransaction(...).finally(() => setTxInstance(undefined)))`: the
 * transaction's EntityManager is set on the store inside `transaction()`'s callback and cleared
 * only after `transaction()` resolves, so every context typeorm-signals can see between BEGIN and
 * the end of the commit receivers holds the committed transaction, and a `@Transactional()`
 * (Propagation.Required) awaited there joins it: its writes autocommit one by one and a throw rolls
 * nothing back. typeorm-transactional's `wrapInTransaction` also runs `context.run()` before
 * `dataSource.transaction()` (it happens to clear its EntityManager before the COMMIT). The one
 * context guaranteed to hold no library's transaction is one from before any request: this
 * module's load, taken below. The library's own AsyncLocalStorages (mute/capture scopes, the
 * recursion chain) are re-entered with the values they have at the COMMIT, so `withoutSignals`,
 * `captureSignals` and the depth guard behave as before. What deferred receivers lose is every
 * other AsyncLocalStorage value of the request (a CLS request id, a tracing span): a receiver
 * that needs one reads it in the transaction phase and passes it on (e.g. on the entity or in
 * `save(..., { data })`).
 */

const own: Array<AsyncLocalStorage<unknown>> = [];

/** An AsyncLocalStorage of the library, whose value deferred work keeps (see runDetached). */
export function ownStorage<T>(): AsyncLocalStorage<T> {
  const storage = new AsyncLocalStorage<T>();
  own.push(storage as AsyncLocalStorage<unknown>);
  return storage;
}

// An AsyncResource made at module load captures the context of that moment: at application start,
// where no request, CLS or transaction context exists (other AsyncLocalStorages created later have
// no value in it either). AsyncResource rather than AsyncLocalStorage.snapshot(), which Node 20
// still marks experimental.
const outside = new AsyncResource('typeorm-signals.deferred');

/** Runs fn in the module-load context with the library's own stores as they are now. */
export function runDetached<T>(fn: () => Promise<T>): Promise<T> {
  const values = own.map((storage) => storage.getStore());
  const enter = (i: number): Promise<T> => {
    if (i === own.length) return fn();
    const value = values[i];
    return value === undefined ? enter(i + 1) : own[i].run(value, () => enter(i + 1));
  };
  return outside.runInAsyncScope(() => enter(0));
}
