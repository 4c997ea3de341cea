import type { CoreUserSession } from './register.js'
import type { SessionStore } from './session-store.js'

type StoreMethod = 'get' | 'set' | 'update' | 'touch' | 'delete' | 'listByUser' | 'deleteByUser'

const WRITES: ReadonlySet<StoreMethod> = new Set(['set', 'update', 'touch', 'delete', 'deleteByUser'])

export interface StoreCall {
  readonly method: StoreMethod
  readonly args: readonly unknown[]
}

/** A store wrapped so a test can see every call made to it, and make it fail on demand. */
export interface RecordingStore<S extends CoreUserSession> extends SessionStore<S> {
  readonly calls: StoreCall[]
  /** Calls that write (set, update, touch, delete, deleteByUser). */
  readonly writes: StoreCall[]
  /** While set, every method rejects with this error, as an unreachable backend would. */
  failWith: Error | undefined
  /** Runs before each call reaches the wrapped store (after it is recorded). */
  beforeCall: ((call: StoreCall) => Promise<void> | void) | undefined
}

export function recordingStore<S extends CoreUserSession>(inner: SessionStore<S>): RecordingStore<S> {
  const calls: StoreCall[] = []
  const wrap =
    <A extends unknown[], R>(method: StoreMethod, run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const call = { method, args }
      calls.push(call)
      await wrapper.beforeCall?.(call)
      if (wrapper.failWith !== undefined) throw wrapper.failWith
      return run(...args)
    }
  const wrapper: RecordingStore<S> = {
    calls,
    get writes() {
      return calls.filter((call) => WRITES.has(call.method))
    },
    failWith: undefined,
    beforeCall: undefined,
    get: wrap('get', (id: string) => inner.get(id)),
    set: wrap('set', (record: Parameters<SessionStore<S>['set']>[0]) => inner.set(record)),
    update: wrap('update', (...args: Parameters<SessionStore<S>['update']>) => inner.update(...args)),
    touch: wrap('touch', (...args: Parameters<SessionStore<S>['touch']>) => inner.touch(...args)),
    delete: wrap('delete', (...args: Parameters<SessionStore<S>['delete']>) => inner.delete(...args)),
    listByUser: wrap('listByUser', (userId: string) => inner.listByUser(userId)),
    deleteByUser: wrap('deleteByUser', (...args: Parameters<SessionStore<S>['deleteByUser']>) => inner.deleteByUser(...args)),
    subscribe: (listener) => inner.subscribe(listener),
  }
  return wrapper
}
