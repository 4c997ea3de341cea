import type { Clock } from '@pikku/core'
import type { SessionLifetime } from '@pikku/core/protocol'

/** What the map needs of an entry: its id and the times its lifetime is judged by. */
export interface AnonymousEntry {
  readonly id: string
  readonly createdAt: number
  lastActiveAt: number
}

export interface AnonymousSessionsOptions {
  /** The most sessions kept; the least recently used one is evicted to make room. */
  max: number
  /** Their idle and absolute timeouts (core's rules, with the anonymous idle timeout). */
  lifetime: Pick<SessionLifetime, 'isExpired'>
  clock: Clock
  /** Called for every session that leaves the map other than by `take` or `delete`. */
  onEvict: (id: string) => void
}

/**
 * MCP sessions no user is bound to yet, kept in this process's memory only: an unauthenticated
 * client can start as many as it likes, and none of them may cost a store write (nor fill Redis,
 * PostgreSQL or SQLite). The map is bounded: past `max`, the least recently used session is
 * evicted. A session that gets an owner leaves the map (`take`) for the session store.
 */
export interface AnonymousSessions<E extends AnonymousEntry> {
  add(entry: E): void
  /** The live session, or undefined (unknown, evicted, idle or past its absolute timeout). */
  get(id: string): E | undefined
  /** Marks a use: renews the idle timer and makes the session the most recently used. */
  touch(id: string): void
  /** Removes a session that moves to the store; no eviction callback. */
  take(id: string): E | undefined
  /** Removes a session that ends (DELETE); no eviction callback. True when it was live. */
  delete(id: string): boolean
  /** Evicts every idle or expired session; returns how many. */
  sweep(): number
  readonly size: number
}

export function createAnonymousSessions<E extends AnonymousEntry>(options: AnonymousSessionsOptions): AnonymousSessions<E> {
  const { max, lifetime, clock, onEvict } = options
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const sessions = new Map<string, E>()

  const evict = (id: string): void => {
    sessions.delete(id)
    onEvict(id)
  }

  const get = (id: string): E | undefined => {
    const entry = sessions.get(id)
    if (entry === undefined) return undefined
    if (lifetime.isExpired(entry, clock())) {
      evict(id)
      return undefined
    }
    return entry
  }

  return {
    add(entry) {
      sessions.set(entry.id, entry)
      while (sessions.size > max) evict(sessions.keys().next().value as string)
    },
    get,
    touch(id) {
      const entry = get(id)
      if (entry === undefined) return
      entry.lastActiveAt = clock()
      sessions.delete(id)
      sessions.set(id, entry)
    },
    take(id) {
      const entry = get(id)
      sessions.delete(id)
      return entry
    },
    delete(id) {
      return get(id) !== undefined && sessions.delete(id)
    },
    sweep() {
      const now = clock()
      let evicted = 0
      for (const [id, entry] of [...sessions]) {
        if (lifetime.isExpired(entry, now)) {
          evict(id)
          evicted++
        }
      }
      return evicted
    },
    get size() {
      return sessions.size
    },
  }
}
