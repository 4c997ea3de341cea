import { type Clock, type CoreUserSession, systemClock } from './register.js'
import { jsonCopy, jsonCopyFrozenReusing } from './session-data-copy.js'
import { type SessionEvent, type SessionRecord, type SessionRecordChange, type SessionStore, type SessionUpdateResult } from './session-store.js'
import { withSyncTwin } from './sync-twin.js'

/** The read cache's options (a store's `cache` option). */
export interface SessionCacheOptions {
  /**
   * The most session records held in this process. Beyond it the record cached longest ago is
   * dropped; the next read of it goes to the store again. Each entry holds one session's data.
   * @default 10_000
   */
  maxEntries?: number
}

/** How a store tells its cache when its events can be trusted. */
export interface SessionCacheSetup {
  /**
   * Called once the cache has subscribed; resolves when the store's event delivery to this
   * process is confirmed (the subscription acknowledged by the server). Until then the cache is
   * bypassed. Stores whose events never leave the process resolve at once.
   * @default () => Promise.resolve()
   */
  eventsConfirmed?: () => Promise<unknown>
  /** The store's clock, for the expiry check on every read. @default Date.now */
  clock?: Clock
}

/** What the cache is doing, for operators, tests and benchmarks. */
export interface SessionCacheView {
  /** Records held now (never more than `maxEntries`). */
  readonly size: number
  readonly maxEntries: number
  /** Whether reads are answered from memory now: false until events are confirmed and during a gap. */
  readonly active: boolean
  /** Reads answered from memory. */
  readonly hits: number
  /** Reads that went to the store while the cache was active. */
  readonly misses: number
  /** Reads that went to the store because the cache was inactive (no confirmed event delivery). */
  readonly bypassed: number
}

/** A store with a read cache in front of it. */
export type CachedSessionStore<T> = T & { readonly cache: SessionCacheView }

interface Entry {
  readonly record: SessionRecord<CoreUserSession>
}

/**
 * One store call in flight whose answer may fill the cache. An event about its id that it does not
 * expect (another writer's change, a deletion) or a gap makes its answer too old to keep.
 */
interface Flight {
  stale: boolean
  readonly epoch: number
  /** The `changed` event this call itself causes, which does not make its answer stale. */
  expectVersion?: number
  expectExpiresAt?: number
}

const DEFAULT_MAX_ENTRIES = 10_000

/**
 * Puts a bounded, per-process read cache in front of `store`, which must publish every change and
 * deletion made through any process as events (Redis pub/sub, PostgreSQL NOTIFY, the SQLite events
 * table). Reads are answered from memory only while the store vouches for its event delivery: from
 * `eventsConfirmed` on, and never between `interrupted` and `resync` (the cache is emptied at both).
 * Every hit is checked against the record's own expiry. Writes always go to the store, with the
 * version the caller read: the cache is never trusted for compare-and-set.
 *
 * Records handed out are deeply frozen and shared between readers, as the memory store's are.
 */
export function cacheSessionStore<T extends SessionStore<CoreUserSession>>(
  store: T,
  options: SessionCacheOptions = {},
  setup: SessionCacheSetup = {},
): CachedSessionStore<T> {
  if (store === undefined || store === null || typeof store.get !== 'function' || typeof store.subscribe !== 'function') {
    throw new TypeError('cacheSessionStore needs a SessionStore that publishes events to wrap')
  }
  const maxEntries = resolveMaxEntries(options)
  const clock = setup.clock ?? systemClock

  // Insertion order: a fill or a write moves an entry to the end, and the first one is dropped when
  // full. A hit does not move it (no work added to the read of every request).
  const entries = new Map<string, Entry>()
  // The calls in flight by id. A null-prototype object, not a Map: every write adds and removes its
  // id here, and V8 links each table a Map outgrows (or shrinks from) to its successor. Once one of
  // them had been promoted to the old generation, that chain kept every later table, and the calls
  // they still pointed to, alive through each young collection until the next full one: counted on
  // cached Redis updates, a sixth of their instructions went to copying it. V8 keeps objects made by
  // Object.create(null) as hash dictionaries, whose outgrown tables are simply garbage.
  const flights: Record<string, Set<Flight> | undefined> = Object.create(null) as Record<string, Set<Flight> | undefined>
  let confirmed = false
  let interrupted = false
  let closed = false
  // Bumped by every gap and resync: calls begun before it must not fill the cache.
  let epoch = 0
  let hits = 0
  let misses = 0
  let bypassed = 0

  const active = (): boolean => confirmed && !interrupted && !closed

  const drop = (id: string): void => {
    entries.delete(id)
  }

  const remember = (record: SessionRecord<CoreUserSession>): void => {
    entries.delete(record.id)
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string)
    entries.set(record.id, { record })
  }

  const begin = (id: string, expectVersion?: number, expectExpiresAt?: number): Flight => {
    const flight: Flight = { stale: false, epoch, expectVersion, expectExpiresAt }
    let set = flights[id]
    if (set === undefined) flights[id] = set = new Set()
    set.add(flight)
    return flight
  }

  /** Ends a call; true when its answer may be cached. */
  const end = (id: string, flight: Flight): boolean => {
    const set = flights[id]
    if (set !== undefined) {
      set.delete(flight)
      if (set.size === 0) delete flights[id]
    }
    return !flight.stale && flight.epoch === epoch && active()
  }

  const staleFlights = (id: string, event: SessionEvent & { type: 'changed' | 'deleted' }): void => {
    const set = flights[id]
    if (set === undefined) return
    for (const flight of set) {
      const own = event.type === 'changed' && event.version === flight.expectVersion && event.expiresAt === flight.expectExpiresAt
      if (!own) flight.stale = true
    }
  }

  const onEvent = (event: SessionEvent): void => {
    switch (event.type) {
      case 'changed': {
        const entry = entries.get(event.id)
        // Kept only when the event describes exactly what is cached (this process's own write).
        // A touch elsewhere keeps the version but moves the times, which the event does not carry.
        if (entry !== undefined && (entry.record.version !== event.version || entry.record.expiresAt !== event.expiresAt)) drop(event.id)
        staleFlights(event.id, event)
        return
      }
      case 'deleted':
        drop(event.id)
        staleFlights(event.id, event)
        return
      case 'interrupted':
        // Revocations may be missed from now on: nothing cached is trusted until the resync.
        interrupted = true
        epoch++
        entries.clear()
        return
      case 'resync':
        interrupted = false
        epoch++
        entries.clear()
        return
    }
  }

  const unsubscribe = store.subscribe(onEvent)
  const eventsConfirmed = setup.eventsConfirmed ?? (() => Promise.resolve())
  eventsConfirmed().then(
    () => {
      if (closed) return
      // Anything filled before now would be unsafe; nothing was (the cache was inactive).
      confirmed = true
    },
    () => undefined,
  )

  const freshRead = async (id: string): Promise<SessionRecord<CoreUserSession> | undefined> => {
    const flight = begin(id)
    let record: SessionRecord<CoreUserSession> | undefined
    try {
      record = await store.get(id)
    } finally {
      if (end(id, flight) && record !== undefined) {
        record = freezeRecord(record)
        remember(record)
      }
    }
    return record
  }

  const get = (id: string): Promise<SessionRecord<CoreUserSession> | undefined> => {
    if (!active()) {
      bypassed++
      return store.get(id)
    }
    const entry = entries.get(id)
    if (entry !== undefined) {
      // A cached record never outlives its own expiry, whatever the events say.
      if (entry.record.expiresAt > clock()) {
        hits++
        return Promise.resolve(entry.record)
      }
      drop(id)
    }
    misses++
    return freshRead(id)
  }

  /** `get`'s synchronous twin: a hit, or undefined for everything else (which `get` then handles and counts). */
  const hit = (id: string): SessionRecord<CoreUserSession> | undefined => {
    if (!active()) return undefined
    const entry = entries.get(id)
    if (entry === undefined || entry.record.expiresAt <= clock()) return undefined
    hits++
    return entry.record
  }

  const cached: SessionStore<CoreUserSession> = {
    // Always this store's own get (and twin), never the wrapped store's: its twin would skip the cache's rules.
    get: withSyncTwin(get, hit),

    async set(record) {
      drop(record.id)
      if (!active()) return store.set(record)
      const flight = begin(record.id, record.version, record.expiresAt)
      let written = false
      try {
        // Normalised before the write, so a later change of the caller's object changes nothing cached.
        const data = jsonCopy(record.data, true)
        const metadata = record.metadata === undefined ? undefined : jsonCopy(record.metadata, true)
        await store.set(record)
        written = true
        if (end(record.id, flight)) remember(Object.freeze({ ...record, data, ...(metadata === undefined ? {} : { metadata }) }))
      } finally {
        if (!written) end(record.id, flight)
      }
    },

    async update(id, expectedVersion, change): Promise<SessionUpdateResult> {
      const previous = entries.get(id)?.record
      // The cache is only the base of the next cached record, never of the decision to write.
      const base = previous !== undefined && previous.version === expectedVersion ? previous : undefined
      drop(id)
      if (base === undefined || !active()) return store.update(id, expectedVersion, change)
      const flight = begin(id, expectedVersion + 1, change.expiresAt)
      let result: SessionUpdateResult | undefined
      try {
        result = await store.update(id, expectedVersion, change)
      } finally {
        if (end(id, flight) && result === 'ok') remember(updatedRecord(base, change))
      }
      return result
    },

    async touch(id, lastActiveAt, expiresAt) {
      const previous = entries.get(id)?.record
      drop(id)
      if (previous === undefined || !active()) return store.touch(id, lastActiveAt, expiresAt)
      const flight = begin(id, previous.version, expiresAt)
      let touched = false
      try {
        touched = await store.touch(id, lastActiveAt, expiresAt)
      } finally {
        if (end(id, flight) && touched) remember(Object.freeze({ ...previous, lastActiveAt, expiresAt }))
      }
      return touched
    },

    async delete(id, reason) {
      drop(id)
      try {
        return await store.delete(id, reason)
      } finally {
        drop(id)
      }
    },

    listByUser(userId) {
      return store.listByUser(userId)
    },

    deleteByUser(userId, deleteOptions) {
      // Every deleted record is announced, this process's own deletions included, and dropped then.
      return store.deleteByUser(userId, deleteOptions)
    },

    subscribe(listener) {
      return store.subscribe(listener)
    },

    // Swept records are announced as deleted events too, which drop them from the cache.
    ...(store.onSweep === undefined ? {} : { onSweep: store.onSweep.bind(store) }),

    async close() {
      closed = true
      unsubscribe()
      entries.clear()
      await store.close?.()
    },
  }

  const view: SessionCacheView = {
    get size() {
      return entries.size
    },
    maxEntries,
    get active() {
      return active()
    },
    get hits() {
      return hits
    },
    get misses() {
      return misses
    },
    get bypassed() {
      return bypassed
    },
  }

  // The store's other members (ready, sweep, migrate, getters) stay as they are.
  const wrapped = Object.defineProperties({}, Object.getOwnPropertyDescriptors(store)) as T
  Object.assign(wrapped, cached)
  Object.defineProperty(wrapped, 'cache', { value: view, enumerable: true })
  return wrapped as CachedSessionStore<T>
}

/**
 * Checks a store's `cache` option when the store is created (before it opens any connection):
 * `false`, `undefined`, or options with a valid `maxEntries`.
 */
export function assertSessionCacheOption(cache: unknown): asserts cache is SessionCacheOptions | false | undefined {
  if (cache === false || cache === undefined) return
  resolveMaxEntries(cache)
}

function resolveMaxEntries(options: unknown): number {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`cache must be an object such as { maxEntries: 10_000 }, or false; got ${JSON.stringify(options)}`)
  }
  const maxEntries = (options as SessionCacheOptions).maxEntries ?? DEFAULT_MAX_ENTRIES
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`cache.maxEntries must be a whole number, 1 or more; got ${String(maxEntries)}`)
  }
  return maxEntries
}

function updatedRecord(base: SessionRecord<CoreUserSession>, change: SessionRecordChange<CoreUserSession>): SessionRecord<CoreUserSession> {
  return Object.freeze({
    id: base.id,
    userId: base.userId,
    // Fields the change did not touch keep the cached (frozen, normalised) objects.
    data: jsonCopyFrozenReusing(change.data, base.data),
    version: base.version + 1,
    createdAt: base.createdAt,
    lastActiveAt: change.lastActiveAt,
    expiresAt: change.expiresAt,
    // An update leaves the login's metadata as it is unless it carries new metadata.
    ...(change.metadata !== undefined ? { metadata: Object.freeze({ ...change.metadata }) } : base.metadata === undefined ? {} : { metadata: base.metadata }),
  })
}

/** Freezes a record a store returned (fresh from JSON, or already frozen) so readers can share it. */
function freezeRecord(record: SessionRecord<CoreUserSession>): SessionRecord<CoreUserSession> {
  deepFreeze(record.data)
  deepFreeze(record.metadata)
  return Object.isFrozen(record) ? record : Object.freeze(record)
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null) return
  // Walked even when frozen: a store may have frozen only the top of what it returned.
  Object.freeze(value)
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
}
