import { AUDIT_RECORD_FIELDS, type AuditRecord, parseAuditRecord } from './audit-record.js'
import { assertRecentLimit, type AuditSink } from './audit-sink.js'
import { assertSqlIdentifier } from './sql-identifier.js'

/** A `pg` Pool (or Client) the app already has. */
export interface PostgresAuditClient {
  query(...args: never[]): unknown
}

export interface PostgresAuditSinkOptions {
  /** The app's `pg` Pool; the app ends it. */
  pool: PostgresAuditClient
  /** The table, created on first use. @default 'pikku_session_audit' */
  tableName?: string
  /** The schema of the table, created on first use when missing. @default the connection's search_path (usually public) */
  schema?: string
}

interface Row {
  readonly record: unknown
}

/**
 * Audit records as rows of a PostgreSQL table shared by every server: `seq` (insertion order),
 * `at`, `type`, `user_id`, `handle`, `protocol` as columns to query, and the whole record as
 * `jsonb`. A batch is one multi-row `INSERT`. The table only grows: prune it with your own job
 * (`DELETE … WHERE at < now() - interval '90 days'`) for the retention your policy asks.
 */
export function createPostgresAuditSink(options: PostgresAuditSinkOptions): AuditSink {
  if (options === null || typeof options !== 'object' || options.pool === null || typeof options.pool?.query !== 'function') {
    throw new TypeError('createPostgresAuditSink needs { pool }: a pg Pool')
  }
  // The structural type above only says what is checked; these are the calls made.
  const pool = options.pool as unknown as { query(text: string, values?: unknown[]): Promise<{ rows: Row[] }> }
  const tableName = options.tableName ?? 'pikku_session_audit'
  assertSqlIdentifier(tableName, 'tableName')
  const schema = options.schema
  if (schema !== undefined) assertSqlIdentifier(schema, 'schema')
  const table = schema === undefined ? `"${tableName}"` : `"${schema}"."${tableName}"`

  // Created before the first write or read, and again after a failure (the database was down).
  let ready: Promise<void> | undefined
  const ensureTable = (): Promise<void> => {
    ready ??= (async () => {
      if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${table} (
          seq bigserial PRIMARY KEY,
          at timestamptz NOT NULL,
          type text NOT NULL,
          user_id text,
          handle text,
          protocol text,
          record jsonb NOT NULL
        )`,
      )
      await pool.query(`CREATE INDEX IF NOT EXISTS "${tableName}_user_id" ON ${table} (user_id, seq)`)
    })().catch((error: unknown) => {
      ready = undefined
      throw error
    })
    return ready
  }

  return {
    name: `postgres:${schema === undefined ? '' : `${schema}.`}${tableName}`,

    async write(records) {
      if (records.length === 0) return
      await ensureTable()
      const values: unknown[] = []
      const rows: string[] = []
      for (const record of records) {
        const base = values.length
        rows.push(`($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6})`)
        values.push(record.at, record.type, record.userId ?? null, record.handle ?? null, record.protocol ?? null, JSON.stringify(record, AUDIT_RECORD_FIELDS as string[]))
      }
      await pool.query(`INSERT INTO ${table} (at, type, user_id, handle, protocol, record) VALUES ${rows.join(', ')}`, values)
    },

    async recent(limit) {
      assertRecentLimit(limit)
      if (limit === 0) return []
      await ensureTable()
      const { rows } = await pool.query(`SELECT record FROM ${table} ORDER BY seq DESC LIMIT $1`, [limit])
      const records: AuditRecord[] = []
      for (const row of rows) {
        const record = parseAuditRecord(row.record)
        if (record !== undefined) records.push(record)
      }
      return records
    },

    async close() {
      // The pool is the app's.
    },
  }
}
