import { type Clock, type CoreUserSession, systemClock, type UserSession } from './register.js'
import { jsonCopy, jsonCopyFrozenReusing } from './session-data-copy.js'
import { createSessionEventBus } from './session-events.js'
import type { SessionMetadata } from './session-metadata.js'
import type {
  SessionDeleteReason,
  SessionRecord,
  SessionRecordChange,
  SessionStore,
  SessionUpdateResult,
  SweptSession,
} from './session-store.js'
import { withSyncTwin } from './sync-twin.js'
import { createSweepReporter } from './sweep-reporter.js'
import { silentLogger } from './logger.js'

export interface MemoryStoreOptions {
  /** @default Date.now */
  clock?: Clock
  /**
   * How often expired entries are swept (ms); 0 turns the timer off (call `sweep()` yourself).
   * Expired entries are also dropped when read.
   * @default 60_000
   */
  sweepInterval?: number
  /**
   * The most entries kept. Beyond it the least recently active session (the one whose last write
   * or renewal is oldest) is evicted and announced with reason `evicted` (`expired` if it had
   * expired anyway), so memory stays bounded under a flood of logins. At the default and the
   * session manager's default `maxSessionBytes` (64 KiB), a full store of maximal sessions is
   * about 640 MiB, within Node's default heap; typical sessions of a few hundred bytes take a few
   * MiB. `Infinity` turns the cap off.
   * @default 10_000
   */
  maxEntries?: number
  /** Entries examined per sweep step; the sweep yields between steps. @default 10_000 */
  sweepBatchSize?: number
}

/** The memory store plus the hooks tests and operators use. */
export interface MemoryStore<S extends CoreUserSession = UserSession> extends SessionStore<S> {
  /** Removes expired entries now; returns how many went. */
  sweep(): Promise<number>
  /** Entries held, expired or not. */
  readonly size: number
}

interface Entry {
  userId: string
  // Made at write time with JSON's semantics (the store keeps exactly what a persistent store would
  // give back) and deeply frozen, so every read shares it without a copy: a reader can change
  // nothing stored. (Measured: no larger than the JSON text for typical sessions.)
  data: CoreUserSession
  version: number
  createdAt: number
  lastActiveAt: number
  expiresAt: number
  // Frozen at write time, shared by every reader like `data`.
  metadata: SessionMetadata | undefined
}

/**
 * The embedded default store. Bounded: expired entries are swept on a timer and `maxEntries` caps
 * the total. Not shared between processes: use a persistent store for more than one server.
 */
export function createMemoryStore<S extends CoreUserSession = UserSession>(options: MemoryStoreOptions = {}): MemoryStore<S> {
  const clock = options.clock ?? systemClock
  const maxEntries = options.maxEntries ?? 10_000
  const sweepBatchSize = options.sweepBatchSize ?? 10_000
  const sweepInterval = options.sweepInterval ?? 60_000
  if (!(maxEntries === Number.POSITIVE_INFINITY || (Number.isInteger(maxEntries) && maxEntries >= 1))) {
    throw new RangeError(`maxEntries must be at least 1 (a whole number, or Infinity for no cap); got ${maxEntries}`)
  }
  if (!(sweepBatchSize >= 1)) throw new RangeError(`sweepBatchSize must be at least 1; got ${sweepBatchSize}`)
  if (!(sweepInterval >= 0)) throw new RangeError(`sweepInterval must be 0 or more ms; got ${sweepInterval}`)

  // In order of last write or renewal, least recent first: set, update and touch move an entry to
  // the end, so eviction takes the first. Reads do not move it (no work added to the read of every
  // request); a session in use is renewed at least once per renewal interval, which moves it.
  const entries = new Map<string, Entry>()
  const byUser = new Map<string, Set<string>>()
  const bus = createSessionEventBus()
  // A memory store has no logger: a throwing sweep listener is skipped silently, as a throwing event listener is.
  const sweeps = createSweepReporter(silentLogger)
  let closed = false

  const live = (id: string): Entry | undefined => {
    const entry = entries.get(id)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= clock()) {
      remove(id, entry, 'expired')
      return undefined
    }
    return entry
  }

  const remove = (id: string, entry: Entry, reason: SessionDeleteReason): void => {
    entries.delete(id)
    const ids = byUser.get(entry.userId)
    if (ids !== undefined) {
      ids.delete(id)
      if (ids.size === 0) byUser.delete(entry.userId)
    }
    bus.publish({ type: 'deleted', id, userId: entry.userId, reason })
  }

  /** Moves an entry to the most recently used end of the eviction order. */
  const recentlyUsed = (id: string, entry: Entry): void => {
    entries.delete(id)
    entries.set(id, entry)
  }

  // One object per read, the hot path: `metadata` is present (possibly undefined) on every record.
  const toRecord = (id: string, entry: Entry): SessionRecord<S> => ({
    id,
    userId: entry.userId,
    data: entry.data as S,
    version: entry.version,
    createdAt: entry.createdAt,
    lastActiveAt: entry.lastActiveAt,
    expiresAt: entry.expiresAt,
    metadata: entry.metadata,
  })

  const assertOpen = (): void => {
    if (closed) throw new Error('This memory session store was closed')
  }

  const sweep = async (): Promise<number> => {
    let removed = 0
    let examined = 0
    const now = clock()
    let swept: SweptSession[] | undefined
    for (const [id, entry] of entries) {
      if (entry.expiresAt <= now) {
        remove(id, entry, 'expired')
        removed++
        if (sweeps.active) (swept ??= []).push(entry.metadata === undefined ? { id, userId: entry.userId } : { id, userId: entry.userId, metadata: entry.metadata })
      }
      if (++examined % sweepBatchSize === 0) {
        if (swept !== undefined) sweeps.report(swept)
        swept = undefined
        // Yield so a sweep of a large store never blocks request handling for long.
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    }
    if (swept !== undefined) sweeps.report(swept)
    return removed
  }

  let sweeping = false
  const timer =
    sweepInterval > 0
      ? setInterval(() => {
          if (sweeping) return
          sweeping = true
          sweep().finally(() => {
            sweeping = false
          })
        }, sweepInterval)
      : undefined
  // The sweep timer must never keep a process alive on its own.
  timer?.unref()

  // The session manager reads a live record through the synchronous twin (no promise, no turn of
  // the microtask queue); a closed store leaves the answer to get(), which rejects.
  const get = withSyncTwin(
    async (id: string): Promise<SessionRecord<S> | undefined> => {
      assertOpen()
      const entry = live(id)
      return entry === undefined ? undefined : toRecord(id, entry)
    },
    (id: string): SessionRecord<S> | undefined => {
      if (closed) return undefined
      const entry = live(id)
      return entry === undefined ? undefined : toRecord(id, entry)
    },
  )

  return {
    get,

    async set(record) {
      assertOpen()
      const data = jsonCopy(record.data, true)
      const existing = entries.get(record.id)
      if (existing !== undefined && existing.userId !== record.userId) {
        remove(record.id, existing, 'cleared')
      }
      entries.delete(record.id)
      entries.set(record.id, {
        userId: record.userId,
        data,
        version: record.version,
        createdAt: record.createdAt,
        lastActiveAt: record.lastActiveAt,
        expiresAt: record.expiresAt,
        metadata: frozenMetadata(record.metadata),
      })
      let ids = byUser.get(record.userId)
      if (ids === undefined) byUser.set(record.userId, (ids = new Set()))
      ids.add(record.id)
      bus.publish({ type: 'changed', id: record.id, userId: record.userId, version: record.version, expiresAt: record.expiresAt })
      while (entries.size > maxEntries) {
        const [oldestId, oldest] = entries.entries().next().value as [string, Entry]
        remove(oldestId, oldest, oldest.expiresAt <= clock() ? 'expired' : 'evicted')
      }
    },

    async update(id, expectedVersion, change: SessionRecordChange<S>): Promise<SessionUpdateResult> {
      assertOpen()
      const entry = live(id)
      if (entry === undefined) return 'missing'
      if (entry.version !== expectedVersion) return 'conflict'
      if (change.data.userId !== entry.userId) {
        throw new TypeError('A session update cannot change userId; store a new session instead')
      }
      entry.data = jsonCopyFrozenReusing(change.data, entry.data)
      entry.version = expectedVersion + 1
      entry.lastActiveAt = change.lastActiveAt
      entry.expiresAt = change.expiresAt
      if (change.metadata !== undefined) entry.metadata = frozenMetadata(change.metadata)
      recentlyUsed(id, entry)
      if (bus.listenerCount > 0) bus.publish({ type: 'changed', id, userId: entry.userId, version: entry.version, expiresAt: entry.expiresAt })
      return 'ok'
    },

    async touch(id, lastActiveAt, expiresAt) {
      assertOpen()
      const entry = live(id)
      if (entry === undefined) return false
      entry.lastActiveAt = lastActiveAt
      entry.expiresAt = expiresAt
      recentlyUsed(id, entry)
      if (bus.listenerCount > 0) bus.publish({ type: 'changed', id, userId: entry.userId, version: entry.version, expiresAt })
      return true
    },

    async delete(id, reason = 'cleared') {
      assertOpen()
      const entry = live(id)
      if (entry === undefined) return false
      remove(id, entry, reason)
      return true
    },

    async listByUser(userId) {
      assertOpen()
      const ids = byUser.get(userId)
      if (ids === undefined) return []
      const records: SessionRecord<S>[] = []
      for (const id of [...ids]) {
        const entry = live(id)
        if (entry !== undefined) records.push(toRecord(id, entry))
      }
      return records
    },

    async deleteByUser(userId, deleteOptions) {
      assertOpen()
      const ids = byUser.get(userId)
      if (ids === undefined) return 0
      let removed = 0
      for (const id of [...ids]) {
        if (id === deleteOptions?.except) continue
        const entry = live(id)
        if (entry === undefined) continue
        remove(id, entry, 'revoked')
        removed++
      }
      return removed
    },

    subscribe(listener) {
      return bus.subscribe(listener)
    },

    onSweep: sweeps.onSweep,

    sweep,

    get size() {
      return entries.size
    },

    async close() {
      closed = true
      if (timer !== undefined) clearInterval(timer)
    },
  }
}

/** The store's own frozen copy of a record's metadata (what a persistent store would give back). */
function frozenMetadata(metadata: SessionMetadata | undefined): SessionMetadata | undefined {
  return metadata === undefined ? undefined : jsonCopy(metadata, true)
}
