import { RateLimiterSQLite } from 'rate-limiter-flexible'
import { assertCounterArguments } from './memory-backend.js'
import { counterFromLimiter, occasionalSweep } from './rate-limiter-counter.js'
import { assertSqlIdentifier } from './sql-identifier.js'
import type { ThrottleBackend, ThrottleCounter } from './throttle-backend.js'

/** A better-sqlite3 `Database` the app already has. */
export interface SqliteThrottleDatabase {
  prepare(...args: never[]): unknown
  transaction(...args: never[]): unknown
}

export interface SqliteThrottleBackendOptions {
  /**
   * The app's better-sqlite3 database; the app closes it. Give it a `busy_timeout` when other
   * processes write to the same file.
   */
  database: SqliteThrottleDatabase
  /** The table holding the counters, created when the backend is made. @default 'pikku_login_throttle' */
  tableName?: string
  /**
   * How often (ms) rows whose window ended are deleted, by one of the requests that comes along
   * (no timer); 0 never deletes them.
   * @default 300_000
   */
  sweepInterval?: number
}

/**
 * Counters in a SQLite table through rate-limiter-flexible: one row per account or address,
 * updated with one `INSERT … ON CONFLICT DO UPDATE` in a transaction, so the processes sharing the
 * file (a server and local CLI commands) share the counts.
 */
export function createSqliteThrottleBackend(options: SqliteThrottleBackendOptions): ThrottleBackend {
  if (options === null || typeof options !== 'object' || options.database === null || typeof options.database?.prepare !== 'function') {
    throw new TypeError('createSqliteThrottleBackend needs { database }: a better-sqlite3 Database')
  }
  // The structural type above only says what is checked; these are the calls made.
  const database = options.database as unknown as { prepare(sql: string): { run(...params: unknown[]): unknown } }
  const tableName = options.tableName ?? 'pikku_login_throttle'
  assertSqlIdentifier(tableName, 'tableName')
  const sweepInterval = options.sweepInterval ?? 300_000
  if (!Number.isInteger(sweepInterval) || sweepInterval < 0) throw new RangeError(`sweepInterval must be 0 or a whole number of ms; got ${String(sweepInterval)}`)
  // Created here, synchronously: rate-limiter-flexible's own creation finishes a tick after its
  // constructor, and a count made before then would fail. The columns are the ones its queries use.
  database.prepare(`CREATE TABLE IF NOT EXISTS ${tableName} (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER)`).run()

  const sweep = occasionalSweep(async () => {
    database.prepare(`DELETE FROM ${tableName} WHERE expire < ?`).run(Date.now())
  }, sweepInterval)

  return {
    counter(name: string, windowSeconds: number): ThrottleCounter {
      assertCounterArguments(name, windowSeconds)
      const limiter = new RateLimiterSQLite({
        storeClient: options.database,
        storeType: 'better-sqlite3',
        tableName,
        tableCreated: true,
        clearExpiredByTimeout: false,
        keyPrefix: name,
        points: 1,
        duration: windowSeconds,
      })
      return counterFromLimiter(limiter, sweep)
    },
  }
}
