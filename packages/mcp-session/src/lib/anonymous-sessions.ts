import type { Clock } from '@pikku/core'
import type { MCPSessionRecord } from './mcp-session-records.js'

export interface AnonymousSessionsOptions {
  /** The most sessions kept; the least recently used one is evicted to make room. */
  max: number
  idleTimeout: number
  absoluteTimeout: number
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
export interface AnonymousSessions {
  add(record: MCPSessionRecord): void
  /** The live session, or undefined (unknown, evicted, idle or past its absolute timeout). */
  get(id: string): MCPSessionRecord | undefined
  /** Marks a use: renews the idle timer and makes the session the most recently used. */
  touch(id: string): void
  /** Replaces a session's record (a change of its data); false when it is gone. */
  replace(record: MCPSessionRecord): boolean
  /** Removes a session that moves to the store; no eviction callback. */
  take(id: string): MCPSessionRecord | undefined
  /** Removes a session that ends (DELETE); no eviction callback. True when it was live. */
  delete(id: string): boolean
  /** Evicts every idle or expired session; returns how many. */
  sweep(): number
  readonly size: number
}

export function createAnonymousSessions(options: AnonymousSessionsOptions): AnonymousSessions {
  const { max, idleTimeout, absoluteTimeout, clock, onEvict } = options
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const sessions = new Map<string, MCPSessionRecord>()

  const expired = (record: MCPSessionRecord, now: number): boolean =>
    now >= record.lastActiveAt + idleTimeout || now >= record.createdAt + absoluteTimeout

  const evict = (id: string): void => {
    sessions.delete(id)
    onEvict(id)
  }

  const get = (id: string): MCPSessionRecord | undefined => {
    const record = sessions.get(id)
    if (record === undefined) return undefined
    if (expired(record, clock())) {
      evict(id)
      return undefined
    }
    return record
  }

  return {
    add(record) {
      sessions.set(record.id, record)
      while (sessions.size > max) {
        const oldest = sessions.keys().next().value as string
        evict(oldest)
      }
    },
    get,
    touch(id) {
      const record = get(id)
      if (record === undefined) return
      const now = clock()
      sessions.delete(id)
      sessions.set(id, { ...record, lastActiveAt: now, expiresAt: Math.min(now + idleTimeout, record.createdAt + absoluteTimeout) })
    },
    replace(record) {
      if (get(record.id) === undefined) return false
      sessions.set(record.id, record)
      return true
    },
    take(id) {
      const record = get(id)
      sessions.delete(id)
      return record
    },
    delete(id) {
      return get(id) !== undefined && sessions.delete(id)
    },
    sweep() {
      const now = clock()
      let evicted = 0
      for (const [id, record] of [...sessions]) {
        if (expired(record, now)) {
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
