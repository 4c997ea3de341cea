import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  type Clock,
  type CoreUserSession,
  createConsoleLogger,
  type Logger,
  type SessionDeleteReason,
  type SessionRecord,
  type SessionRecordChange,
  type SessionStore,
  type SessionUpdateResult,
  type SweptSession,
  type UserSession,
  cacheSessionStore,
  type SessionCacheOptions,
  type SessionCacheView,
  parseSessionMetadata,
} from '@pikku/core'
import { assertSessionCacheOption, createSessionEventBus, createSweepReporter, isStorableKey } from '@pikku/core/store'
import { assertSqliteDriver, defaultSqliteDriver, openSqliteConnection, type SqliteConnection, type SqliteDriverName } from './sqlite-driver.js'
import { type CarriedEvent, createSqliteEventLog, type SqliteEventLog } from './sqlite-events.js'
import { addMetadataColumn, assertTableName, eventsTableName, prepareSchema, rollback, schemaStatements } from './sqlite-schema.js'
import { translateSqliteError } from './sqlite-errors.js'

export interface SqliteStoreOptions {
  /**
   * The database file. Its directory is created if missing. `':memory:'` keeps everything in this
   * process (nothing survives a restart; for tests).
   * @default './.data/sessions.db'
   */
  path?: string
  /**
   * The SQLite binding: `'better-sqlite3'` (the package, installed by the app), `'node:sqlite'`
   * (built into Node 22.13 and later) or `'bun:sqlite'` (built into Bun).
   * @default 'bun:sqlite' under Bun; otherwise 'better-sqlite3' when installed, else 'node:sqlite'
   */
  driver?: SqliteDriverName
  /**
   * The table holding sessions (a plain identifier). Created with its indexes when missing, with
   * `<tableName>_events` beside it.
   * @default 'pikku_sessions'
   */
  tableName?: string
  /**
   * The time used for every expiry decision (ms since the epoch).
   * @default Date.now
   */
  clock?: Clock
  /**
   * How often expired rows (and events older than `eventRetention`) are deleted (ms); 0 turns the
   * timer off (call `sweep()` yourself). Expired rows are never returned, swept or not.
   * @default 60_000
   */
  sweepInterval?: number
  /**
   * Rows deleted per sweep statement; the sweep yields to other work between batches, so a large
   * backlog never holds the write lock for long.
   * @default 1_000
   */
  sweepBatchSize?: number
  /**
   * How long (ms) a statement waits for another connection's write lock before failing with
   * `ServiceUnavailableError`; opening waits as long for other processes creating the schema.
   * @default 5_000
   */
  busyTimeout?: number
  /**
   * How often (ms), while anything subscribes, this process looks for changes other processes
   * made to the file: the bound on how late their logouts reach this process's subscribers. A
   * look is one `PRAGMA data_version` unless something changed. 0 turns it off (events then reach
   * only this process's subscribers).
   * @default 100
   */
  eventPollInterval?: number
  /**
   * How long (ms) events stay in the file for other processes to read. A process that has not
   * looked for longer (stopped, or its event loop blocked) finds some gone and tells its
   * subscribers to re-check (`interrupted`, then `resync`).
   * @default 60_000
   */
  eventRetention?: number
  /**
   * Where a failed look for other processes' events is reported.
   * @default a console logger
   */
  logger?: Logger
  /**
   * A read cache of session records in this process, in front of the SQLite file: a repeated read of a
   * session is answered from memory while this process reads the events table (every `eventPollInterval`; a
   * cached change made by another process is seen at the next look), and every
   * change or logout made through any process drops the cached record when its event arrives.
   * Otherwise every read goes to the database (and fails with `ServiceUnavailableError` when it is
   * unreachable); the cache is emptied on `resync`. Writes always go to the database. `false`
   * turns it off.
   * @default false
   */
  cache?: SessionCacheOptions | false
}

/** The SQLite store plus the hooks tests and operators use. */
export interface SqliteStore<S extends CoreUserSession = UserSession> extends SessionStore<S> {
  /** The binding this store runs on. */
  readonly driver: SqliteDriverName
  /** Deletes expired rows (and events older than `eventRetention`) now, in batches; returns how many sessions went. */
  sweep(): Promise<number>
  /** Closes the database and stops the timers. */
  close(): Promise<void>
  /** The read cache's counters, when `cache` is on. */
  readonly cache?: SessionCacheView
}

/** A swept row as core's `expired` event needs it (metadata parsed, a damaged one left out). */
function sweptSession(row: Pick<Row, 'id' | 'user_id' | 'metadata'>): SweptSession {
  const metadata = row.metadata === null ? undefined : parseSessionMetadata(row.metadata)
  return metadata === undefined ? { id: row.id, userId: row.user_id } : { id: row.id, userId: row.user_id, metadata }
}

interface Row {
  id: string
  user_id: string
  data: string
  version: number
  created_at: number
  last_active_at: number
  expires_at: number
  metadata: string | null
}

function assertNonNegative(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number of ms, 0 or more; got ${String(value)}`)
  }
}

/** Every option resolved to its value, checked when `createSqliteStore` is called. */
function resolveOptions(options: SqliteStoreOptions): Required<Omit<SqliteStoreOptions, 'logger' | 'cache'>> & { logger: Logger | undefined } {
  const resolved = {
    path: options.path ?? './.data/sessions.db',
    driver: options.driver ?? defaultSqliteDriver(),
    tableName: options.tableName ?? 'pikku_sessions',
    clock: options.clock ?? Date.now,
    sweepInterval: options.sweepInterval ?? 60_000,
    sweepBatchSize: options.sweepBatchSize ?? 1_000,
    busyTimeout: options.busyTimeout ?? 5_000,
    eventPollInterval: options.eventPollInterval ?? 100,
    eventRetention: options.eventRetention ?? 60_000,
    logger: options.logger,
  }
  if (typeof resolved.path !== 'string' || resolved.path === '') {
    throw new TypeError(`path must be a file path or ':memory:'; got ${JSON.stringify(resolved.path)}`)
  }
  assertSqliteDriver(resolved.driver)
  assertTableName(resolved.tableName)
  if (typeof resolved.clock !== 'function') throw new TypeError('clock must be a function returning ms since the epoch, such as Date.now')
  assertNonNegative('sweepInterval', resolved.sweepInterval)
  assertNonNegative('busyTimeout', resolved.busyTimeout)
  assertNonNegative('eventPollInterval', resolved.eventPollInterval)
  if (!Number.isInteger(resolved.sweepBatchSize) || resolved.sweepBatchSize < 1) {
    throw new RangeError(`sweepBatchSize must be a whole number, 1 or more; got ${resolved.sweepBatchSize}`)
  }
  if (typeof resolved.eventRetention !== 'number' || !Number.isFinite(resolved.eventRetention) || resolved.eventRetention < 1_000) {
    throw new RangeError(`eventRetention must be a finite number of ms, 1000 or more; got ${String(resolved.eventRetention)}`)
  }
  if (resolved.eventPollInterval * 2 > resolved.eventRetention) {
    throw new RangeError(
      `eventPollInterval (${resolved.eventPollInterval}) must be at most half of eventRetention (${resolved.eventRetention}), or events are pruned before other processes look`,
    )
  }
  if (resolved.logger !== undefined && (typeof resolved.logger !== 'object' || typeof resolved.logger.warn !== 'function')) {
    throw new TypeError('logger must be a Logger (an object with debug, info, warn and error methods)')
  }
  return resolved
}

/** Opens the file (creating it private) and its schema, waiting for other processes doing the same. */
function openDatabase(options: ReturnType<typeof resolveOptions>, events: boolean): SqliteConnection {
  const { path, busyTimeout } = options
  const inMemory = path === ':memory:'
  if (!inMemory && !path.startsWith('file:')) {
    // Session data (emails, roles) is readable by whoever can read the file: a new directory is
    // private to this user, and a new file is created 0600 before SQLite opens it (SQLite gives
    // the -wal and -shm files the same permissions). Existing files keep theirs.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    closeSync(openSync(path, 'a', 0o600))
  }
  let connection: SqliteConnection | undefined
  try {
    connection = openSqliteConnection(options.driver, path, busyTimeout)
    prepareSchema(connection, schemaStatements(options.tableName, { events }), { wal: !inMemory, busyTimeout })
    addMetadataColumn(connection, options.tableName)
    return connection
  } catch (error) {
    connection?.close()
    throw translateSqliteError(error)
  }
}

/**
 * The embedded persistent store: one SQLite file in WAL mode, so readers never wait for the
 * writer. Several processes may share the file: writes are serialised by SQLite's lock, and each
 * change is also written, in the same transaction, to an events table that the other processes
 * read every `eventPollInterval` ms, so a logout in one reaches subscribers in all.
 */
export function createSqliteStore<S extends CoreUserSession = UserSession>(options: SqliteStoreOptions = {}): SqliteStore<S> {
  const resolved = resolveOptions(options)
  const { clock, sweepInterval, sweepBatchSize, eventPollInterval, eventRetention } = resolved
  // A ':memory:' database belongs to this connection alone: nobody else could read its events.
  const shared = resolved.path !== ':memory:'
  const cache = options.cache ?? false
  assertSessionCacheOption(cache)
  if (cache !== false && shared && eventPollInterval === 0) {
    throw new RangeError('cache needs eventPollInterval above 0: without reading the events table, this process never hears of other processes’ logouts')
  }
  const db = openDatabase(resolved, shared)
  const logger = resolved.logger ?? createConsoleLogger()

  const table = `"${resolved.tableName}"`
  const statements = {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    get: db.prepare<[string, number], Row>(`SELECT * FROM ${table} WHERE id = ? AND expires_at > ?`),
    userOf: db.prepare<[string], Pick<Row, 'user_id' | 'version' | 'expires_at'>>(`SELECT user_id, version, expires_at FROM ${table} WHERE id = ?`),
    upsert: db.prepare<[string, string, string, number, number, number, number, string | null]>(
      `INSERT INTO ${table} (id, user_id, data, version, created_at, last_active_at, expires_at, metadata)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, version = excluded.version,
         created_at = excluded.created_at, last_active_at = excluded.last_active_at, expires_at = excluded.expires_at,
         metadata = excluded.metadata`,
    ),
    update: db.prepare<[string, number, number, string | null, string, number, number]>(
      `UPDATE ${table} SET data = ?, version = version + 1, last_active_at = ?, expires_at = ?, metadata = COALESCE(?, metadata)
       WHERE id = ? AND version = ? AND expires_at > ?`,
    ),
    touch: db.prepare<[number, number, string, number], Pick<Row, 'user_id' | 'version'>>(
      `UPDATE ${table} SET last_active_at = ?, expires_at = ? WHERE id = ? AND expires_at > ? RETURNING user_id, version`,
    ),
    delete: db.prepare<[string], Pick<Row, 'user_id' | 'expires_at'>>(`DELETE FROM ${table} WHERE id = ? RETURNING user_id, expires_at`),
    listByUser: db.prepare<[string, number], Row>(`SELECT * FROM ${table} WHERE user_id = ? AND expires_at > ? ORDER BY created_at, id`),
    deleteByUser: db.prepare<[string, string | null], Pick<Row, 'id' | 'expires_at'>>(
      `DELETE FROM ${table} WHERE user_id = ? AND id IS NOT ? RETURNING id, expires_at`,
    ),
    sweep: db.prepare<[number, number], Pick<Row, 'id' | 'user_id' | 'metadata'>>(
      `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE expires_at <= ? LIMIT ?) RETURNING id, user_id, metadata`,
    ),
  }

  const bus = createSessionEventBus({ onListenerError: (error) => logger.error('a session event listener threw', { error }) })
  const sweeps = createSweepReporter(logger)
  // This instance's events are delivered to its own subscribers at once; the id keeps them from
  // being delivered a second time when it reads the events table.
  const origin = randomBytes(12).toString('base64url')
  const log: SqliteEventLog | undefined = shared ? createSqliteEventLog(db, eventsTableName(resolved.tableName), origin, clock) : undefined
  let closed = false

  const toRecord = (row: Row): SessionRecord<S> => {
    const record: SessionRecord<S> = {
      id: row.id,
      userId: row.user_id,
      data: JSON.parse(row.data) as S,
      version: row.version,
      createdAt: row.created_at,
      lastActiveAt: row.last_active_at,
      expiresAt: row.expires_at,
    }
    const metadata = row.metadata === null ? undefined : parseSessionMetadata(row.metadata)
    return metadata === undefined ? record : { ...record, metadata }
  }

  // Every public operation runs through here: closed stores fail loudly, transient SQLite
  // conditions become ServiceUnavailableError.
  const run = <T>(step: () => T): Promise<T> => {
    if (closed) return Promise.reject(new Error('This SQLite session store was closed; create a new one'))
    try {
      return Promise.resolve(step())
    } catch (error) {
      return Promise.reject(translateSqliteError(error))
    }
  }

  /**
   * Runs `write` in one IMMEDIATE transaction, which takes the write lock at BEGIN, so two
   * processes never both read then both try to upgrade to a write (which SQLite would refuse with
   * SQLITE_BUSY at once). The events `write` returns are appended to the events table in the same
   * transaction (a change is never committed without its event, nor an event without its change)
   * and delivered to this process's subscribers once it commits.
   */
  const transaction = <T>(write: (events: CarriedEvent[]) => T): T => {
    const events: CarriedEvent[] = []
    statements.begin.run()
    let result: T
    try {
      result = write(events)
      if (log !== undefined) for (const event of events) log.append(event)
      statements.commit.run()
    } catch (error) {
      rollback(db)
      throw error
    }
    for (const event of events) bus.publish(event)
    return result
  }

  const sweep = async (): Promise<number> => {
    let removed = 0
    for (;;) {
      if (closed) return removed
      const rows = await run(() =>
        transaction((events) => {
          const deleted = statements.sweep.all(clock(), sweepBatchSize)
          for (const row of deleted) events.push({ type: 'deleted', id: row.id, userId: row.user_id, reason: 'expired' })
          return deleted
        }),
      )
      const count = rows.length
      // After the commit, in this process only: the manager reports them as `expired`.
      if (sweeps.active) sweeps.report(rows.map(sweptSession))
      removed += count
      if (count < sweepBatchSize) break
      // Yield between batches so requests interleave with a long sweep.
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    if (log !== undefined) await run(() => log.prune(clock() - eventRetention))
    return removed
  }

  let sweeping = false
  const sweepTimer =
    sweepInterval > 0
      ? setInterval(() => {
          if (sweeping) return
          sweeping = true
          // A failed sweep (a busy file) is retried on the next tick; nothing is lost by waiting.
          sweep()
            .catch(() => undefined)
            .finally(() => {
              sweeping = false
            })
        }, sweepInterval)
      : undefined
  // The sweep timer must never keep a process alive on its own.
  sweepTimer?.unref()

  // Other processes' events: looked for only while something subscribes.
  let pollTimer: ReturnType<typeof setInterval> | undefined
  const poll = (): void => {
    if (closed || log === undefined) return
    let found
    try {
      found = log.read()
    } catch (error) {
      // The file cannot be read (an I/O error, a lock held for longer than busyTimeout): changes
      // other processes make cannot be seen until it can, so subscribers must ask the store.
      if (!bus.interrupted) logger.warn('SQLite session store: cannot read other processes’ session events; subscribers re-check sessions until it can', { error })
      bus.publish({ type: 'interrupted' })
      return
    }
    // Events were pruned before this process read them (it did not look for longer than
    // eventRetention): what they said is lost, so subscribers re-check what they hold.
    if (found?.gap === true) {
      logger.warn('SQLite session store: some session events were pruned before this process read them; subscribers re-check their sessions')
      bus.publish({ type: 'interrupted' })
    }
    for (const event of found?.events ?? []) bus.publish(event)
    // Reading the file again is the proof that nothing more is being missed.
    if (bus.interrupted) {
      if (found?.gap !== true) logger.info('SQLite session store: reading other processes’ session events again')
      bus.publish({ type: 'resync' })
    }
  }
  const startPolling = (): void => {
    if (pollTimer !== undefined || log === undefined || eventPollInterval === 0 || closed) return
    // A first subscriber hears of changes from now on, not the ones made before it subscribed.
    try {
      log.skipToEnd()
    } catch (error) {
      // The first look decides: if it fails too, subscribers hear `interrupted`.
      logger.warn('SQLite session store: cannot read the events table yet', { error })
    }
    pollTimer = setInterval(poll, eventPollInterval)
    pollTimer.unref()
  }
  const stopPolling = (): void => {
    if (pollTimer !== undefined) clearInterval(pollTimer)
    pollTimer = undefined
  }

  const store: SqliteStore<S> = {
    driver: db.driver,

    get(id) {
      return run(() => {
        if (!isStorableKey(id)) return undefined
        const row = statements.get.get(id, clock())
        return row === undefined ? undefined : toRecord(row)
      })
    },

    set(record) {
      return run(() => {
        if (!isStorableKey(record.id) || !isStorableKey(record.userId)) {
          throw new TypeError('Session id and userId must be well-formed strings without NUL characters')
        }
        const json = JSON.stringify(record.data)
        const metadataJson = record.metadata === undefined ? null : JSON.stringify(record.metadata)
        transaction((events) => {
          const previous = statements.userOf.get(record.id)
          statements.upsert.run(record.id, record.userId, json, record.version, record.createdAt, record.lastActiveAt, record.expiresAt, metadataJson)
          if (previous !== undefined && previous.user_id !== record.userId && previous.expires_at > clock()) {
            events.push({ type: 'deleted', id: record.id, userId: previous.user_id, reason: 'cleared' })
          }
          events.push({ type: 'changed', id: record.id, userId: record.userId, version: record.version, expiresAt: record.expiresAt })
        })
      })
    },

    update(id, expectedVersion, change: SessionRecordChange<S>) {
      return run((): SessionUpdateResult => {
        if (!isStorableKey(id)) return 'missing'
        const json = JSON.stringify(change.data)
        const now = clock()
        return transaction((events) => {
          const current = statements.userOf.get(id)
          if (current === undefined || current.expires_at <= now) return 'missing'
          if (current.version !== expectedVersion) return 'conflict'
          if (change.data.userId !== current.user_id) {
            throw new TypeError('A session update cannot change userId; store a new session instead')
          }
          const metadata = change.metadata === undefined ? null : JSON.stringify(change.metadata)
          const result = statements.update.run(json, change.lastActiveAt, change.expiresAt, metadata, id, expectedVersion, now)
          if (result.changes !== 1) return 'conflict'
          events.push({ type: 'changed', id, userId: change.data.userId, version: expectedVersion + 1, expiresAt: change.expiresAt })
          return 'ok'
        })
      })
    },

    touch(id, lastActiveAt, expiresAt) {
      return run(() => {
        if (!isStorableKey(id)) return false
        return transaction((events) => {
          const row = statements.touch.get(lastActiveAt, expiresAt, id, clock())
          if (row === undefined) return false
          events.push({ type: 'changed', id, userId: row.user_id, version: row.version, expiresAt })
          return true
        })
      })
    },

    delete(id, reason: SessionDeleteReason = 'cleared') {
      return run(() => {
        if (!isStorableKey(id)) return false
        return transaction((events) => {
          // An expired row goes too, but only a live one counts (and is announced).
          const row = statements.delete.get(id)
          if (row === undefined || row.expires_at <= clock()) return false
          events.push({ type: 'deleted', id, userId: row.user_id, reason })
          return true
        })
      })
    },

    listByUser(userId) {
      return run(() => {
        if (!isStorableKey(userId)) return []
        return statements.listByUser.all(userId, clock()).map(toRecord)
      })
    },

    deleteByUser(userId, deleteOptions) {
      return run(() => {
        if (!isStorableKey(userId)) return 0
        return transaction((events) => {
          const now = clock()
          for (const row of statements.deleteByUser.all(userId, deleteOptions?.except ?? null)) {
            if (row.expires_at > now) events.push({ type: 'deleted', id: row.id, userId, reason: 'revoked' })
          }
          return events.length
        })
      })
    },

    onSweep: sweeps.onSweep,

    subscribe(listener) {
      const unsubscribe = bus.subscribe(listener)
      startPolling()
      let subscribed = true
      return () => {
        if (!subscribed) return
        subscribed = false
        unsubscribe()
        if (bus.listenerCount === 0) stopPolling()
      }
    },

    sweep,

    async close() {
      if (closed) return
      closed = true
      if (sweepTimer !== undefined) clearInterval(sweepTimer)
      stopPolling()
      db.close()
    },
  }
  // The events table is read from the first subscription on (at once, then every
  // eventPollInterval): nothing to wait for.
  if (cache === false) return store
  return cacheSessionStore(store, cache, { clock })
}
