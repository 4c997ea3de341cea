import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import {
  type Clock,
  type CoreUserSession,
  createSessionEventBus,
  type SessionDeleteReason,
  type SessionRecord,
  type SessionRecordChange,
  type SessionStore,
  type SessionUpdateResult,
  type UserSession,
  isStorableKey,
} from '@pikku/core'
import { assertTableName, schemaStatements } from './sqlite-schema.js'
import { translateSqliteError } from './sqlite-errors.js'

export interface SqliteStoreOptions {
  /**
   * The database file. Its directory is created if missing. `':memory:'` keeps everything in this
   * process (nothing survives a restart; for tests).
   * @default './.data/sessions.db'
   */
  path?: string
  /**
   * The table holding sessions (a plain identifier). Created with its indexes when missing.
   * @default 'pikku_sessions'
   */
  tableName?: string
  /**
   * The time used for every expiry decision (ms since the epoch).
   * @default Date.now
   */
  clock?: Clock
  /**
   * How often expired rows are deleted (ms); 0 turns the timer off (call `sweep()` yourself).
   * Expired rows are never returned, swept or not.
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
   * `ServiceUnavailableError`.
   * @default 5_000
   */
  busyTimeout?: number
}

/** The SQLite store plus the hooks tests and operators use. */
export interface SqliteStore<S extends CoreUserSession = UserSession> extends SessionStore<S> {
  /** Deletes expired rows now, in batches; returns how many went. */
  sweep(): Promise<number>
  /** Closes the database and stops the sweep timer. */
  close(): Promise<void>
}

interface Row {
  id: string
  user_id: string
  data: string
  version: number
  created_at: number
  last_active_at: number
  expires_at: number
}

function assertNonNegative(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number of ms, 0 or more; got ${String(value)}`)
  }
}

/**
 * The embedded persistent store: one SQLite file in WAL mode, so readers never wait for the
 * writer. Several processes may share the file (writes are serialised by SQLite's lock), but
 * events reach only subscribers in the process that made the change.
 */
export function createSqliteStore<S extends CoreUserSession = UserSession>(options: SqliteStoreOptions = {}): SqliteStore<S> {
  const path = options.path ?? './.data/sessions.db'
  const tableName = options.tableName ?? 'pikku_sessions'
  const clock = options.clock ?? Date.now
  const sweepInterval = options.sweepInterval ?? 60_000
  const sweepBatchSize = options.sweepBatchSize ?? 1_000
  const busyTimeout = options.busyTimeout ?? 5_000
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(`path must be a file path or ':memory:'; got ${JSON.stringify(path)}`)
  }
  assertTableName(tableName)
  if (typeof clock !== 'function') throw new TypeError('clock must be a function returning ms since the epoch, such as Date.now')
  assertNonNegative('sweepInterval', sweepInterval)
  assertNonNegative('busyTimeout', busyTimeout)
  if (!Number.isInteger(sweepBatchSize) || sweepBatchSize < 1) {
    throw new RangeError(`sweepBatchSize must be a whole number, 1 or more; got ${sweepBatchSize}`)
  }

  if (path !== ':memory:' && !path.startsWith('file:')) {
    // Session data (emails, roles) is readable by whoever can read the file: a new directory is
    // private to this user, and a new file is created 0600 before SQLite opens it (SQLite gives
    // the -wal and -shm files the same permissions). Existing files keep theirs.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    closeSync(openSync(path, 'a', 0o600))
  }
  let db: Database.Database
  try {
    db = new Database(path, { timeout: busyTimeout })
  } catch (error) {
    throw translateSqliteError(error)
  }
  // WAL: readers and the writer do not block each other, and a commit is one append. The default
  // synchronous=FULL is kept so that an acknowledged write survives a power loss too.
  db.pragma('journal_mode = WAL')
  for (const statement of schemaStatements(tableName)) db.exec(statement)

  const table = `"${tableName}"`
  const statements = {
    get: db.prepare<[string, number], Row>(`SELECT * FROM ${table} WHERE id = ? AND expires_at > ?`),
    userOf: db.prepare<[string], Pick<Row, 'user_id' | 'version' | 'expires_at'>>(
      `SELECT user_id, version, expires_at FROM ${table} WHERE id = ?`,
    ),
    upsert: db.prepare<[string, string, string, number, number, number, number]>(
      `INSERT INTO ${table} (id, user_id, data, version, created_at, last_active_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, version = excluded.version,
         created_at = excluded.created_at, last_active_at = excluded.last_active_at, expires_at = excluded.expires_at`,
    ),
    update: db.prepare<[string, number, number, string, number, number]>(
      `UPDATE ${table} SET data = ?, version = version + 1, last_active_at = ?, expires_at = ?
       WHERE id = ? AND version = ? AND expires_at > ?`,
    ),
    touch: db.prepare<[number, number, string, number], Pick<Row, 'user_id' | 'version'>>(
      `UPDATE ${table} SET last_active_at = ?, expires_at = ? WHERE id = ? AND expires_at > ? RETURNING user_id, version`,
    ),
    delete: db.prepare<[string], Pick<Row, 'user_id' | 'expires_at'>>(
      `DELETE FROM ${table} WHERE id = ? RETURNING user_id, expires_at`,
    ),
    listByUser: db.prepare<[string, number], Row>(
      `SELECT * FROM ${table} WHERE user_id = ? AND expires_at > ? ORDER BY created_at, id`,
    ),
    deleteByUser: db.prepare<[string, string | null], Pick<Row, 'id' | 'expires_at'>>(
      `DELETE FROM ${table} WHERE user_id = ? AND id IS NOT ? RETURNING id, expires_at`,
    ),
    sweep: db.prepare<[number, number], Pick<Row, 'id' | 'user_id'>>(
      `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE expires_at <= ? LIMIT ?) RETURNING id, user_id`,
    ),
  }

  const bus = createSessionEventBus()
  let closed = false

  const toRecord = (row: Row): SessionRecord<S> => ({
    id: row.id,
    userId: row.user_id,
    data: JSON.parse(row.data) as S,
    version: row.version,
    createdAt: row.created_at,
    lastActiveAt: row.last_active_at,
    expiresAt: row.expires_at,
  })

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

  // IMMEDIATE takes the write lock at BEGIN, so two processes never both read then both try to
  // upgrade to a write (which SQLite would refuse with SQLITE_BUSY at once).
  const setTransaction = db.transaction((record: SessionRecord<S>, json: string) => {
    const previous = statements.userOf.get(record.id)
    statements.upsert.run(record.id, record.userId, json, record.version, record.createdAt, record.lastActiveAt, record.expiresAt)
    return previous
  })

  const updateTransaction = db.transaction(
    (id: string, expectedVersion: number, change: SessionRecordChange<S>, json: string, now: number): SessionUpdateResult => {
      const current = statements.userOf.get(id)
      if (current === undefined || current.expires_at <= now) return 'missing'
      if (current.version !== expectedVersion) return 'conflict'
      if (change.data.userId !== current.user_id) {
        throw new TypeError('A session update cannot change userId; store a new session instead')
      }
      const result = statements.update.run(json, change.lastActiveAt, change.expiresAt, id, expectedVersion, now)
      return result.changes === 1 ? 'ok' : 'conflict'
    },
  )

  const sweep = async (): Promise<number> => {
    let removed = 0
    for (;;) {
      if (closed) return removed
      const rows = await run(() => statements.sweep.all(clock(), sweepBatchSize))
      for (const row of rows) bus.publish({ type: 'deleted', id: row.id, userId: row.user_id, reason: 'expired' })
      removed += rows.length
      if (rows.length < sweepBatchSize) return removed
      // Yield between batches so requests interleave with a long sweep.
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }

  let sweeping = false
  const timer =
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
  timer?.unref()

  return {
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
        const previous = setTransaction.immediate(record, json)
        if (previous !== undefined && previous.user_id !== record.userId && previous.expires_at > clock()) {
          bus.publish({ type: 'deleted', id: record.id, userId: previous.user_id, reason: 'cleared' })
        }
        bus.publish({ type: 'changed', id: record.id, userId: record.userId, version: record.version, expiresAt: record.expiresAt })
      })
    },

    update(id, expectedVersion, change) {
      return run(() => {
        if (!isStorableKey(id)) return 'missing' as const
        const result = updateTransaction.immediate(id, expectedVersion, change, JSON.stringify(change.data), clock())
        if (result === 'ok') {
          bus.publish({ type: 'changed', id, userId: change.data.userId, version: expectedVersion + 1, expiresAt: change.expiresAt })
        }
        return result
      })
    },

    touch(id, lastActiveAt, expiresAt) {
      return run(() => {
        if (!isStorableKey(id)) return false
        const row = statements.touch.get(lastActiveAt, expiresAt, id, clock())
        if (row === undefined) return false
        bus.publish({ type: 'changed', id, userId: row.user_id, version: row.version, expiresAt })
        return true
      })
    },

    delete(id, reason: SessionDeleteReason = 'cleared') {
      return run(() => {
        if (!isStorableKey(id)) return false
        // An expired row goes too, but only a live one counts (and is announced).
        const row = statements.delete.get(id)
        if (row === undefined || row.expires_at <= clock()) return false
        bus.publish({ type: 'deleted', id, userId: row.user_id, reason })
        return true
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
        const now = clock()
        const rows = statements.deleteByUser.all(userId, deleteOptions?.except ?? null)
        let removed = 0
        for (const row of rows) {
          if (row.expires_at <= now) continue
          removed++
          bus.publish({ type: 'deleted', id: row.id, userId, reason: 'revoked' })
        }
        return removed
      })
    },

    subscribe(listener) {
      return bus.subscribe(listener)
    },

    sweep,

    async close() {
      if (closed) return
      closed = true
      if (timer !== undefined) clearInterval(timer)
      db.close()
    },
  }
}
