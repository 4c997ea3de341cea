import type { CoreUserSession } from './register.js'
import type { SessionEvent, SessionEventListener, SessionRecord, SessionStore, SessionSweepListener, SweptSession } from './session-store.js'

/**
 * A view of a store that keeps one kind of record apart from user sessions: every id and every
 * owner key is prefixed with `<namespace>:` on the way in and unprefixed on the way out. Protocol
 * state that needs the store's lifetimes and events (an MCP session, say) lives beside user
 * sessions without being one: a user's session list, "log out everywhere" and a user-session
 * lookup never see it, because stored user-session ids are bare base64url (no ':'), and the view
 * sees only its own records and events.
 *
 * Only `id` and the owner key (`userId`, in the record and in its data, which stores keep equal)
 * are rewritten, so any store works unchanged.
 */
export function createNamespacedStore<S extends CoreUserSession>(store: SessionStore<CoreUserSession>, namespace: string): SessionStore<S> {
  if (store === undefined || store === null || typeof store.get !== 'function' || typeof store.subscribe !== 'function') {
    throw new TypeError('createNamespacedStore needs a SessionStore to wrap')
  }
  if (typeof namespace !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(namespace)) {
    throw new TypeError(`namespace must be a short lower-case name such as 'mcp'; got ${JSON.stringify(namespace)}`)
  }
  const prefix = `${namespace}:`
  const outer = (key: string): string => prefix + key
  const inner = (key: string): string | undefined => (key.startsWith(prefix) ? key.slice(prefix.length) : undefined)
  const storedData = (data: S): CoreUserSession => ({ ...data, userId: outer(data.userId) })
  const toStored = (record: SessionRecord<S>): SessionRecord<CoreUserSession> => ({
    ...record,
    id: outer(record.id),
    userId: outer(record.userId),
    data: storedData(record.data),
  })
  const fromStored = (record: SessionRecord<CoreUserSession> | undefined): SessionRecord<S> | undefined => {
    if (record === undefined) return undefined
    const id = inner(record.id)
    const userId = inner(record.userId)
    // Not one of this view's records: never handed out as one.
    if (id === undefined || userId === undefined) return undefined
    const dataUserId = record.data.userId
    return { ...record, id, userId, data: { ...record.data, userId: inner(dataUserId) ?? dataUserId } as S }
  }

  return {
    async get(id) {
      return fromStored(await store.get(outer(id)))
    },
    set(record) {
      return store.set(toStored(record))
    },
    update(id, expectedVersion, change) {
      return store.update(outer(id), expectedVersion, { ...change, data: storedData(change.data) })
    },
    touch(id, lastActiveAt, expiresAt) {
      return store.touch(outer(id), lastActiveAt, expiresAt)
    },
    delete(id, reason) {
      return store.delete(outer(id), reason)
    },
    async listByUser(userId) {
      const records = await store.listByUser(outer(userId))
      const mine: SessionRecord<S>[] = []
      for (const record of records) {
        const own = fromStored(record)
        if (own !== undefined) mine.push(own)
      }
      return mine
    },
    deleteByUser(userId, options) {
      return store.deleteByUser(outer(userId), options?.except === undefined ? undefined : { except: outer(options.except) })
    },
    // Only this view's records, unprefixed: a sweep of the shared store removes every kind.
    ...(store.onSweep === undefined
      ? {}
      : {
          onSweep: (listener: SessionSweepListener) =>
            store.onSweep!((swept) => {
              const mine: SweptSession[] = []
              for (const session of swept) {
                const id = inner(session.id)
                const userId = inner(session.userId)
                if (id !== undefined && userId !== undefined) mine.push(session.metadata === undefined ? { id, userId } : { id, userId, metadata: session.metadata })
              }
              if (mine.length > 0) listener(mine)
            }),
        }),
    subscribe(listener: SessionEventListener) {
      return store.subscribe((event: SessionEvent) => {
        if (event.type === 'changed' || event.type === 'deleted') {
          const id = inner(event.id)
          const userId = inner(event.userId)
          if (id === undefined || userId === undefined) return
          listener({ ...event, id, userId })
          return
        }
        // Delivery events (resync, and any future ones) concern every view of the store.
        listener(event)
      })
    },
    // Closing a view does not close the store it shares with everything else.
  }
}
