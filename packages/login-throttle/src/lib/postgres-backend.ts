import { RateLimiterPostgres } from 'rate-limiter-flexible'
import { assertCounterArguments } from './memory-backend.js'
import { counterFromLimiter, occasionalSweep } from './rate-limiter-counter.js'
import { assertSqlIdentifier } from './sql-identifier.js'
import type { ThrottleBackend, ThrottleCounter } from './throttle-backend.js'

/** A `pg` Pool (or Client) the app already has. */
export interface PostgresThrottleClient {
  query(...args: never[]): unknown
}

export interface PostgresThrottleBackendOptions {
  /** The app's `pg` Pool; the app ends it. */
  pool: PostgresThrottleClient
  /** The table holding the counters, created on first use. @default 'pikku_login_throttle' */
  tableName?: string
  /** The schema of the table; it must exist. @default the connection's search_path (usually public) */
  schema?: string
  /**
   * How often (ms) rows whose window ended are deleted, by one of the requests that comes along
   * (no timer); 0 never deletes them.
   * @default 300_000
   */
  sweepInterval?: number
}

/**
 * Counters in a PostgreSQL table through rate-limiter-flexible: one row per account or address,
 * updated with one atomic `INSERT … ON CONFLICT DO UPDATE`, so several servers share the counts.
 * Window ends are compared with this server's clock, so keep the servers' clocks in sync.
 */
export function createPostgresThrottleBackend(options: PostgresThrottleBackendOptions): ThrottleBackend {
  if (options === null || typeof options !== 'object' || options.pool === null || typeof options.pool?.query !== 'function') {
    throw new TypeError('createPostgresThrottleBackend needs { pool }: a pg Pool')
  }
  // The structural type above only says what is checked; these are the calls made.
  const pool = options.pool as unknown as { query(text: string, values?: unknown[]): Promise<unknown> }
  const tableName = options.tableName ?? 'pikku_login_throttle'
  assertSqlIdentifier(tableName, 'tableName')
  const schema = options.schema
  if (schema !== undefined) assertSqlIdentifier(schema, 'schema')
  const sweepInterval = options.sweepInterval ?? 300_000
  if (!Number.isInteger(sweepInterval) || sweepInterval < 0) throw new RangeError(`sweepInterval must be 0 or a whole number of ms; got ${String(sweepInterval)}`)
  const table = schema === undefined ? `"${tableName}"` : `"${schema}"."${tableName}"`

  // rate-limiter-flexible's own table creation runs from its constructor and is never retried
  // when the database is down at that moment; this one runs before the first count and again
  // after a failure. The columns are the ones its queries use.
  let tableReady: Promise<void> | undefined
  const ensureTable = (): Promise<void> => {
    tableReady ??= createTable(pool, table).catch((error: unknown) => {
      tableReady = undefined
      throw error
    })
    return tableReady
  }
  const sweep = occasionalSweep(async () => {
    await pool.query(`DELETE FROM ${table} WHERE expire < $1`, [Date.now()])
  }, sweepInterval)

  return {
    counter(name: string, windowSeconds: number): ThrottleCounter {
      assertCounterArguments(name, windowSeconds)
      const limiter = new RateLimiterPostgres({
        storeClient: options.pool,
        storeType: 'pool',
        tableName,
        ...(schema === undefined ? {} : { schemaName: schema }),
        tableCreated: true,
        clearExpiredByTimeout: false,
        keyPrefix: name,
        points: 1,
        duration: windowSeconds,
      })
      return counterFromLimiter(limiter, async () => {
        await ensureTable()
        await sweep()
      })
    },
  }
}

async function createTable(pool: { query(text: string, values?: unknown[]): Promise<unknown> }, table: string): Promise<void> {
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`)
  } catch (error) {
    // Two servers creating the table at once: the loser sees a duplicate, and the table is there.
    const code = (error as { code?: unknown }).code
    if (code !== '23505' && code !== '42P07') throw error
  }
}
