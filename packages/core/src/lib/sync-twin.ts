/**
 * A function's synchronous twin: for an asynchronous read whose answer is often already in process
 * memory (the memory store's `get`, a read-cache hit, the session manager's `loadByToken` over
 * them), a function that gives that answer at once, or undefined when it cannot (then the
 * asynchronous function is called, and decides). The caller saves a promise and a turn of the
 * microtask queue per layer, on the read every request makes.
 *
 * The twin is carried by the function object itself, not by the object it is a member of: a wrapper
 * that replaces the member (a store wrapper that counts or refuses reads, session-audit's traced
 * `loadByToken`) puts its own function there, which has no twin, so the wrapper is never bypassed.
 * A wrapper that keeps the member as it is keeps its twin, which answers exactly as it would.
 */
const SYNC_TWIN: unique symbol = Symbol('pikku.syncTwin')

/** The twin of `F`: the same arguments, the answer without the promise (undefined: not known now). */
export type SyncTwin<F extends (...args: never[]) => Promise<unknown>> = (...args: Parameters<F>) => Awaited<ReturnType<F>> | undefined

/** Attaches `twin` to `fn` and returns `fn`. */
export function withSyncTwin<F extends (...args: never[]) => Promise<unknown>>(fn: F, twin: SyncTwin<F>): F {
  Object.defineProperty(fn, SYNC_TWIN, { value: twin })
  return fn
}

/** The synchronous twin of `fn`, if it has one. */
export function syncTwinOf<F extends (...args: never[]) => Promise<unknown>>(fn: F): SyncTwin<F> | undefined {
  return (fn as F & { readonly [SYNC_TWIN]?: SyncTwin<F> })[SYNC_TWIN]
}
