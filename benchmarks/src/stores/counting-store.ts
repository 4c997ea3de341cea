import type { SessionStore, UserSession } from '@pikku/core'

type Method = 'get' | 'set' | 'update' | 'touch' | 'delete' | 'listByUser' | 'deleteByUser'
const WRITES: readonly Method[] = ['set', 'update', 'touch', 'delete', 'deleteByUser']

/** A store that counts the calls made to the one it wraps. */
export interface CountingStore<S extends UserSession> extends SessionStore<S> {
  readonly counts: Record<Method, number>
  /** set + update + touch + delete + deleteByUser. */
  writes(): number
  reads(): number
}

export function countingStore<S extends UserSession>(inner: SessionStore<S>): CountingStore<S> {
  const counts: Record<Method, number> = { get: 0, set: 0, update: 0, touch: 0, delete: 0, listByUser: 0, deleteByUser: 0 }
  return {
    counts,
    writes: () => WRITES.reduce((sum, method) => sum + counts[method], 0),
    reads: () => counts.get + counts.listByUser,
    get: (id) => (counts.get++, inner.get(id)),
    set: (record) => (counts.set++, inner.set(record)),
    update: (...args) => (counts.update++, inner.update(...args)),
    touch: (...args) => (counts.touch++, inner.touch(...args)),
    delete: (...args) => (counts.delete++, inner.delete(...args)),
    listByUser: (userId) => (counts.listByUser++, inner.listByUser(userId)),
    deleteByUser: (...args) => (counts.deleteByUser++, inner.deleteByUser(...args)),
    subscribe: (listener) => inner.subscribe(listener),
    close: async () => inner.close?.(),
  }
}
