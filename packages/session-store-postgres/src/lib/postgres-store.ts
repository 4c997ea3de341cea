import { createHash, randomUUID } from 'node:crypto'
import {
  type Clock,
  type CoreUserSession,
  createConsoleLogger,
  type Logger,
  type SessionDeleteReason,
  type SessionRecord,
  type SessionStore,
  type SessionUpdateResult,
  type SweptSession,
  type UserSession,
  cacheSessionStore,
  type SessionCacheOptions,
  type SessionCacheView,
  parseSessionMetadata,
  ServiceUnavailableError,
} from '@pikku/core'
import { assertSessionCacheOption, createSessionEventBus, createSweepReporter, isStorableKey, type SessionEventMessage, storeMisuse } from '@pikku/core/store'
import pg from 'pg'
import { translatePostgresError } from './postgres-errors.js'
import { ownListenerConnection, type PostgresListener, pooledListenerConnection, startPostgresListener } from './postgres-listener.js'
import { migrateSessionTable } from './postgres-migrate.js'
import { EXPIRY_BUCKET_MS, sessionTableNames } from './postgres-schema.js'

export interface PostgresStoreOptions {
  /**
   * Where PostgreSQL is: `postgres://user[:password]@host[:port]/database[?sslmode=…]`.
   * @default pg's defaults: the PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE environment variables, else localhost:5432
   */
  connectionString?: string
  /**
   * A `pg` Pool the app already has. The store runs its queries on it and, while anyone subscribes
   * to events, keeps one of its connections checked out for LISTEN (so leave room for it in the
   * pool's `max`). `close()` gives that connection back and leaves the pool open: the app ends it.
   * With a pool, its own settings apply, and `connectionString`, `poolSize` and `connectTimeout`
   * are not accepted; `queryTimeout` still bounds every query.
   * @default undefined (the store opens and ends a pool of its own)
   */
  pool?: pg.Pool
  /**
   * The table holding sessions (a lower-case identifier). The version table is `<tableName>_schema`
   * and the NOTIFY channel `<tableName>_events` (with a `schema`: `<schema>.<tableName>_events`).
   * @default 'pikku_sessions'
   */
  tableName?: string
  /**
   * The schema (a lower-case identifier) holding the session table and its version table; the
   * migration creates it when missing. Event channels are database-wide in PostgreSQL, so the
   * channel name includes the schema: stores in different schemas never hear each other.
   * @default undefined (unqualified names: the connection's search_path, usually public)
   */
  schema?: string
  /**
   * Apply the shipped schema (idempotently) before the first operation. Turn off when migrations
   * are applied by other tooling; `postgresSessionSchema()` gives the SQL.
   * @default true
   */
  migrate?: boolean
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
   * Rows deleted per sweep statement; the sweep repeats until a batch comes back short.
   * @default 1_000
   */
  sweepBatchSize?: number
  /**
   * Most connections in the pool (the event listener uses one more).
   * @default 10
   */
  poolSize?: number
  /**
   * How long (ms) opening a connection may take.
   * @default 5_000
   */
  connectTimeout?: number
  /**
   * How long (ms) a query may wait for its result before failing with `ServiceUnavailableError`.
   * @default 5_000
   */
  queryTimeout?: number
  /**
   * Longest wait (ms) between attempts to re-open the event listener; attempts start at 50 ms and
   * double up to this. They never stop.
   * @default 2_000
   */
  maxReconnectDelay?: number
  /**
   * How often (ms) the store checks that its event listener still hears notifications, by sending a
   * heartbeat it must receive before the next check; a silent listener is re-opened. 0 turns the
   * check off.
   * @default 10_000
   */
  listenerCheckInterval?: number
  /**
   * Where connection losses and recoveries are reported (once per change, not per attempt).
   * @default createConsoleLogger()
   */
  logger?: Logger
  /**
   * A read cache of session records in this process, in front of PostgreSQL: a repeated read of a
   * session is answered from memory while this store's LISTEN connection is confirmed, and every
   * change or logout made through any process drops the cached record when its event arrives.
   * Otherwise every read goes to the database (and fails with `ServiceUnavailableError` when it is
   * unreachable); the cache is emptied on `resync`. Writes always go to the database. `false`
   * turns it off.
   * @default false
   */
  cache?: SessionCacheOptions | false
}

/** The PostgreSQL store plus the hooks operators and tests use. */
export interface PostgresStore<S extends CoreUserSession = UserSession> extends SessionStore<S> {
  /** Applies the shipped schema now (idempotent). Runs by itself unless `migrate` is false. */
  migrate(): Promise<void>
  /** Deletes expired rows now, in batches; returns how many went. */
  sweep(): Promise<number>
  /**
   * Resolves once the database answers (and the schema is applied) and, when there are
   * subscribers, the event listener is listening.
   */
  ready(): Promise<void>
  /** Stops the sweep timer and closes the listener, and the pool unless the app passed its own. */
  close(): Promise<void>
  /** The read cache's counters, when `cache` is on. */
  readonly cache?: SessionCacheView
}

/** A swept row as core's `expired` event needs it (metadata parsed, a damaged one left out). */
function sweptSession(row: Pick<Row, 'id' | 'user_id' | 'metadata'>): SweptSession {
  const metadata = row.metadata === null || row.metadata === undefined ? undefined : parseSessionMetadata(row.metadata)
  return metadata === undefined ? { id: row.id, userId: row.user_id } : { id: row.id, userId: row.user_id, metadata }
}

interface Row {
  id: string
  user_id: string
  data: string
  version: number
  created_at: string
  last_active_at: string
  expires_at: string
  metadata: string | null
}

// The columns a record is read from, named: PostgreSQL refuses to run a prepared `SELECT *` again
// once a migration has added a column ("cached plan must not change result type"), on every pooled
// connection that prepared it, so a server would fail its reads after a newer one migrated.
const ROW_COLUMNS = 'id, user_id, data, version, created_at, last_active_at, expires_at, metadata'

/** What the update procedure returns: `written` and `notified`, or why nothing was written. */
interface UpdateOutcome {
  written: boolean
  notified: boolean | null
  previous_user_id: string | null
  previous_version: number | null
  previous_expires_at: string | null
}

/** What the touch procedure returns: the renewed row's user and version, or NULLs. */
interface TouchOutcome {
  touched_user_id: string | null
  touched_version: number | null
  notified: boolean | null
}

function assertNumber(name: string, value: number, minimum: number, unit: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) {
    throw new RangeError(`${name} must be ${unit}, ${minimum} or more; got ${String(value)}`)
  }
}

/**
 * A store shared by any number of servers through PostgreSQL: one table with indexes on the user
 * and on expiry, versioned updates, batched sweeping, and events through LISTEN/NOTIFY on a
 * dedicated connection.
 */
export function createPostgresStore<S extends CoreUserSession = UserSession>(options: PostgresStoreOptions = {}): PostgresStore<S> {
  const { connectionString, pool: appPool } = options
  const tableName = options.tableName ?? 'pikku_sessions'
  const autoMigrate = options.migrate ?? true
  const clock = options.clock ?? Date.now
  const sweepInterval = options.sweepInterval ?? 60_000
  const sweepBatchSize = options.sweepBatchSize ?? 1_000
  const poolSize = options.poolSize ?? 10
  const connectTimeout = options.connectTimeout ?? 5_000
  const queryTimeout = options.queryTimeout ?? 5_000
  const maxReconnectDelay = options.maxReconnectDelay ?? 2_000
  const listenerCheckInterval = options.listenerCheckInterval ?? 10_000
  const logger = options.logger ?? createConsoleLogger()
  if (connectionString !== undefined && (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString))) {
    throw new TypeError(
      `connectionString must start with postgres:// or postgresql://, such as 'postgres://user@127.0.0.1:5432/app'; got ${JSON.stringify(connectionString)}`,
    )
  }
  if (appPool !== undefined) {
    if (appPool === null || typeof appPool !== 'object' || typeof appPool.query !== 'function' || typeof appPool.connect !== 'function') {
      throw new TypeError('pool must be a pg Pool (new pg.Pool(...) from the pg package)')
    }
    for (const name of ['connectionString', 'poolSize', 'connectTimeout'] as const) {
      if (options[name] !== undefined) throw new TypeError(`Pass either pool or ${name}, not both: the pool's own settings apply`)
    }
  }
  const names = sessionTableNames(tableName, options.schema)
  if (typeof clock !== 'function') throw new TypeError('clock must be a function returning ms since the epoch, such as Date.now')
  assertNumber('sweepInterval', sweepInterval, 0, 'a number of ms')
  assertNumber('connectTimeout', connectTimeout, 1, 'a number of ms')
  assertNumber('queryTimeout', queryTimeout, 1, 'a number of ms')
  assertNumber('maxReconnectDelay', maxReconnectDelay, 1, 'a number of ms')
  assertNumber('listenerCheckInterval', listenerCheckInterval, 0, 'a number of ms (0 turns the check off)')
  if (!Number.isInteger(sweepBatchSize) || sweepBatchSize < 1) {
    throw new RangeError(`sweepBatchSize must be a whole number, 1 or more; got ${sweepBatchSize}`)
  }
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new RangeError(`poolSize must be a whole number, 1 or more; got ${poolSize}`)
  const cache = options.cache ?? false
  assertSessionCacheOption(cache)

  const { table, channel, updateProcedure, touchProcedure } = names
  // Prepared-statement names are per connection and at most 63 bytes: a short digest of the
  // qualified table keeps them unique and short whatever the schema and table names.
  const statementPrefix = `pikku_${createHash('sha256').update(table).digest('hex').slice(0, 12)}`
  const origin = randomUUID()
  const bus = createSessionEventBus({ onListenerError: (error) => logger.error('a session event listener threw', { error }) })
  const sweeps = createSweepReporter(logger)
  // TCP keepalive lets an idle connection (above all the listener, which only ever reads) notice a
  // peer that vanished without closing the socket, instead of waiting silently forever.
  const connection = { connectionString, connectionTimeoutMillis: connectTimeout, keepAlive: true, keepAliveInitialDelayMillis: 10_000 }
  const pool = appPool ?? new pg.Pool({ ...connection, max: poolSize, query_timeout: queryTimeout })
  let poolHealthy = true
  let notifications: PostgresListener | undefined
  // The last query failed because the database could not be reached: the listener is suspect too.
  let unreachable = false
  const markUnreachable = (): void => {
    unreachable = true
    // Its idle socket may not have noticed yet; notifications sent meanwhile could be lost.
    notifications?.suspect()
  }
  // An idle pooled connection that dies (the server restarted, the network dropped) is reported
  // here; without a handler it would crash the process. The pool replaces it on the next query.
  const onPoolError = (error: Error): void => {
    if (poolHealthy) logger.warn('PostgreSQL session store: a pooled connection was lost; queries reconnect by themselves', { error })
    poolHealthy = false
    markUnreachable()
  }
  pool.on('error', onPoolError)
  let closed = false

  let migration: Promise<void> | undefined
  const migrate = (): Promise<void> => {
    // A failed attempt (the database was down) is forgotten, so the next operation tries again.
    migration ??= migrateSessionTable(pool, names).catch((error: unknown) => {
      migration = undefined
      throw error
    })
    return migration
  }
  if (autoMigrate) migrate().catch(() => undefined)

  const guard = async <T>(step: () => Promise<T>): Promise<T> => {
    if (closed) throw new Error('This PostgreSQL session store was closed; create a new one')
    try {
      if (autoMigrate) await migrate()
      const result = await step()
      if (!poolHealthy) logger.info('PostgreSQL session store: connection restored')
      poolHealthy = true
      if (unreachable) {
        unreachable = false
        notifications?.verify()
      }
      return result
    } catch (error) {
      const translated = translatePostgresError(error)
      if (translated instanceof ServiceUnavailableError) markUnreachable()
      throw translated
    }
  }

  // The timeout is given per query too, so that it bounds queries on an app's pool as well (pg
  // reads `query_timeout` from the query's config; its types only list it on the client's).
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> =>
    (await pool.query<R>({ text, values, query_timeout: queryTimeout } as pg.QueryConfig)).rows
  // The statements of every request, prepared once per pooled connection (by name) instead of
  // parsed and planned on each call. The name carries the schema and table, so two stores on one
  // pool never share a name for different text.
  const prepared = async <R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<R[]> =>
    (await pool.query<R>({ name: `${statementPrefix}_${name}`, text, values, query_timeout: queryTimeout } as pg.QueryConfig)).rows

  const toRecord = (row: Row): SessionRecord<S> => {
    const record: SessionRecord<S> = {
      id: row.id,
      userId: row.user_id,
      data: JSON.parse(row.data) as S,
      version: row.version,
      createdAt: Number(row.created_at),
      lastActiveAt: Number(row.last_active_at),
      expiresAt: Number(row.expires_at),
    }
    const metadata = row.metadata === null || row.metadata === undefined ? undefined : parseSessionMetadata(row.metadata)
    return metadata === undefined ? record : { ...record, metadata }
  }

  // The write itself committed; failing the call now would make the caller retry a write that
  // happened. Other servers miss these events: a read cache there may serve the previous version
  // of a set, updated or touched session until its next event, eviction or expiry (a versioned
  // update from there conflicts and re-reads). Revocations do not come this way.
  const unsent = (events: readonly SessionEventMessage['event'][], error?: unknown): void => {
    logger.warn('PostgreSQL session store: could not send session events', error === undefined ? { events } : { error, events })
  }

  const announce = async (events: readonly SessionEventMessage['event'][]): Promise<void> => {
    if (events.length === 0) return
    for (const event of events) bus.publish(event)
    try {
      const payloads = events.map((event) => JSON.stringify({ origin, event } satisfies SessionEventMessage))
      // A transaction of its own, after the write committed, that does not wait for its WAL flush.
      // PostgreSQL serialises every committing transaction that sent a NOTIFY (one lock, held
      // through the commit's flush): with the NOTIFY in the write's own transaction, or here with
      // a synchronous commit, no two such commits share a flush, and writes from all servers queue
      // behind one fsync each (decision 036). The notifications hold no data to lose: a crash
      // before the flush ends every listener's connection too, which its store reports as a gap.
      await prepared(
        'notify',
        `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, payload) FROM unnest($2::text[]) AS payload`,
        [channel, payloads],
      )
    } catch (error) {
      unsent(events, error)
    }
  }

  // Revocations send their NOTIFY in the DELETE's own statement, so a committed revocation is
  // never without its event: announce() after the commit can be lost (the process dies, the query
  // fails), and another server's read cache would then keep serving a revoked session for as long
  // as its listener stays healthy. They are rare next to updates, so they can afford the commit
  // lock NOTIFY takes (decision 036). The statement knows the field the caller does not (the
  // deleted row's user, or id): the message is built here as `JSON.stringify` writes it, with that
  // field cut out, and the statement puts `to_json(<column>)` in its place. Ids never hold NUL
  // (isStorableKey), so the NUL placeholder cannot occur in any other field.
  const hole = JSON.stringify('\0')
  const deletedMessage = (event: Extract<SessionEventMessage['event'], { type: 'deleted' }>): [before: string, after: string] => {
    const [before, after] = JSON.stringify({ origin, event } satisfies SessionEventMessage).split(hole)
    return [before!, after!]
  }

  // A renewal's event, cut where the row's user and version go: the touch procedure puts
  // `to_json(user_id)`, then `,"version":<version>` in the cut (as deletedMessage above).
  const changedMessage = (id: string, expiresAt: number): [before: string, after: string] => {
    const event: SessionEventMessage['event'] = { type: 'changed', id, userId: '\0', version: 0, expiresAt }
    const [before, after] = JSON.stringify({ origin, event } satisfies SessionEventMessage).split(`${hole},"version":0`)
    return [before!, after!]
  }

  const ensureListening = (): void => {
    if (notifications !== undefined || closed) return
    notifications = startPostgresListener({
      connect: appPool === undefined ? ownListenerConnection(connection) : pooledListenerConnection(appPool),
      channel,
      origin,
      deliver: (event) => bus.publish(event),
      notify: async (payload) => {
        await guard(() => query('SELECT pg_notify($1, $2)', [channel, payload]))
      },
      maxReconnectDelay,
      checkInterval: listenerCheckInterval,
      logger,
    })
  }

  const sweep = async (): Promise<number> => {
    let removed = 0
    for (;;) {
      if (closed) return removed
      // SKIP LOCKED: several servers sweeping at once split the work instead of queueing on locks.
      // The index holds expiry buckets, not expires_at (HOT updates, decision 037): it finds every
      // row of a bucket that has begun, and the row's own expires_at says whether it is due.
      const rows = await guard(() =>
        query<Pick<Row, 'id' | 'user_id' | 'metadata'>>(
          `DELETE FROM ${table} WHERE id IN (
             SELECT id FROM ${table} WHERE expires_bucket <= $1::bigint / ${EXPIRY_BUCKET_MS} AND expires_at <= $1
             ORDER BY expires_bucket LIMIT $2 FOR UPDATE SKIP LOCKED
           ) RETURNING id, user_id, metadata`,
          [clock(), sweepBatchSize],
        ),
      )
      // The one deletion announced after its commit (announce), not in its statement: a lost
      // `expired` event costs nothing, since a read cache refuses a record past its own expiresAt.
      await announce(rows.map((row) => ({ type: 'deleted', id: row.id, userId: row.user_id, reason: 'expired' })))
      // Only the server whose statement deleted a row hears it (SKIP LOCKED splits the rows), so
      // each expiry is reported once however many servers sweep.
      if (sweeps.active) sweeps.report(rows.map(sweptSession))
      removed += rows.length
      if (rows.length < sweepBatchSize) return removed
    }
  }

  let sweeping = false
  const sweepTimer =
    sweepInterval > 0
      ? setInterval(() => {
          if (sweeping) return
          sweeping = true
          // A failed sweep (the database is down) is retried on the next tick; nothing is lost.
          sweep()
            .catch(() => undefined)
            .finally(() => {
              sweeping = false
            })
        }, sweepInterval)
      : undefined
  // The sweep timer must never keep a process alive on its own.
  sweepTimer?.unref()

  const store: PostgresStore<S> = {
    get(id) {
      return guard(async () => {
        if (!isStorableKey(id)) return undefined
        const [row] = await prepared<Row>('get', `SELECT ${ROW_COLUMNS} FROM ${table} WHERE id = $1 AND expires_at > $2`, [id, clock()])
        return row === undefined ? undefined : toRecord(row)
      })
    },

    set(record) {
      return guard(async () => {
        if (!isStorableKey(record.id) || !isStorableKey(record.userId)) {
          throw storeMisuse('Session id and userId must be well-formed strings without NUL characters')
        }
        const now = clock()
        // Both parts of the statement see the same snapshot, so `previous` is the row as it was
        // before the upsert: its owner is told when a live session changes hands.
        const [previous] = await query<Pick<Row, 'user_id' | 'expires_at'>>(
          `WITH previous AS (SELECT user_id, expires_at FROM ${table} WHERE id = $1),
           written AS (
             INSERT INTO ${table} (id, user_id, data, version, created_at, last_active_at, expires_at, metadata)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, version = excluded.version,
               created_at = excluded.created_at, last_active_at = excluded.last_active_at, expires_at = excluded.expires_at,
               metadata = excluded.metadata
           )
           SELECT user_id, expires_at FROM previous`,
          [
            record.id,
            record.userId,
            JSON.stringify(record.data),
            record.version,
            record.createdAt,
            record.lastActiveAt,
            record.expiresAt,
            record.metadata === undefined ? null : JSON.stringify(record.metadata),
          ],
        )
        const events: SessionEventMessage['event'][] = []
        if (previous !== undefined && previous.user_id !== record.userId && Number(previous.expires_at) > now) {
          events.push({ type: 'deleted', id: record.id, userId: previous.user_id, reason: 'cleared' })
        }
        events.push({ type: 'changed', id: record.id, userId: record.userId, version: record.version, expiresAt: record.expiresAt })
        await announce(events)
      })
    },

    update(id, expectedVersion, change) {
      return guard(async (): Promise<SessionUpdateResult> => {
        if (!isStorableKey(id)) return 'missing'
        const now = clock()
        const userId = change.data.userId
        const event: SessionEventMessage['event'] = { type: 'changed', id, userId, version: expectedVersion + 1, expiresAt: change.expiresAt }
        // One CALL, one round trip: the compare-and-set, committed, then its event sent from a
        // transaction of its own (the procedure in postgres-schema.ts, decision 037). When nothing
        // was written, it returns the row as it is, which says why.
        const [outcome] = await prepared<UpdateOutcome>(
          'update',
          `CALL ${updateProcedure}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, NULL, NULL, NULL)`,
          [
            id,
            expectedVersion,
            userId,
            JSON.stringify(change.data),
            change.lastActiveAt,
            change.expiresAt,
            change.metadata === undefined ? null : JSON.stringify(change.metadata),
            now,
            channel,
            JSON.stringify({ origin, event } satisfies SessionEventMessage),
          ],
        )
        if (outcome?.written === true) {
          bus.publish(event)
          if (outcome.notified !== true) unsent([event])
          return 'ok'
        }
        // Nothing written: say why, for the caller (who re-reads and retries on 'conflict').
        if (outcome?.previous_user_id == null || Number(outcome.previous_expires_at) <= now) return 'missing'
        if (outcome.previous_version === expectedVersion && outcome.previous_user_id !== userId) {
          throw storeMisuse('A session update cannot change userId; store a new session instead')
        }
        return 'conflict'
      })
    },

    touch(id, lastActiveAt, expiresAt) {
      return guard(async () => {
        if (!isStorableKey(id)) return false
        // One CALL like update(); the event's user and version come from the row (changedMessage).
        const [outcome] = await prepared<TouchOutcome>(
          'touch',
          `CALL ${touchProcedure}($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL)`,
          [id, lastActiveAt, expiresAt, clock(), channel, ...changedMessage(id, expiresAt)],
        )
        if (outcome?.touched_user_id == null || outcome.touched_version === null) return false
        const event: SessionEventMessage['event'] = { type: 'changed', id, userId: outcome.touched_user_id, version: outcome.touched_version, expiresAt }
        bus.publish(event)
        if (outcome.notified !== true) unsent([event])
        return true
      })
    },

    delete(id, reason: SessionDeleteReason = 'cleared') {
      return guard(async () => {
        if (!isStorableKey(id)) return false
        // An expired row goes too, but only a live one counts and is announced: by the statement
        // itself, so the NOTIFY commits with the DELETE or not at all (deletedMessage).
        const [before, after] = deletedMessage({ type: 'deleted', id, userId: '\0', reason })
        const [row] = await query<Pick<Row, 'user_id'>>(
          `WITH gone AS (DELETE FROM ${table} WHERE id = $1 RETURNING user_id, expires_at)
           SELECT user_id, pg_notify($3, $4 || to_json(user_id)::text || $5) AS notified FROM gone WHERE expires_at > $2`,
          [id, clock(), channel, before, after],
        )
        if (row === undefined) return false
        bus.publish({ type: 'deleted', id, userId: row.user_id, reason })
        return true
      })
    },

    listByUser(userId) {
      return guard(async () => {
        if (!isStorableKey(userId)) return []
        const rows = await query<Row>(`SELECT ${ROW_COLUMNS} FROM ${table} WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at, id`, [userId, clock()])
        return rows.map(toRecord)
      })
    },

    deleteByUser(userId, deleteOptions) {
      return guard(async () => {
        if (!isStorableKey(userId)) return 0
        // Expired rows go too; each live one is counted and announced in the statement itself
        // (one pg_notify per row, committed with the DELETE: deletedMessage).
        const [before, after] = deletedMessage({ type: 'deleted', id: '\0', userId, reason: 'revoked' })
        const live = await query<Pick<Row, 'id'>>(
          `WITH gone AS (DELETE FROM ${table} WHERE user_id = $1 AND id IS DISTINCT FROM $2 RETURNING id, expires_at)
           SELECT id, pg_notify($4, $5 || to_json(id)::text || $6) AS notified FROM gone WHERE expires_at > $3`,
          [userId, deleteOptions?.except ?? null, clock(), channel, before, after],
        )
        for (const row of live) bus.publish({ type: 'deleted', id: row.id, userId, reason: 'revoked' })
        return live.length
      })
    },

    onSweep: sweeps.onSweep,

    subscribe(listener) {
      ensureListening()
      return bus.subscribe(listener)
    },

    migrate() {
      return guard(() => migrate())
    },

    sweep,

    async ready() {
      await guard(() => query('SELECT 1', []))
      if (notifications !== undefined) await notifications.listening
    },

    async close() {
      if (closed) return
      closed = true
      if (sweepTimer !== undefined) clearInterval(sweepTimer)
      pool.off('error', onPoolError)
      // The app's pool is the app's to end; the store only gives back the connection it held.
      await Promise.all([appPool === undefined ? pool.end().catch(() => undefined) : undefined, notifications?.close()])
    },
  }
  if (cache === false) return store
  return cacheSessionStore(store, cache, { clock, eventsConfirmed: () => notifications?.listening ?? Promise.reject(new Error('closed')) })
}
