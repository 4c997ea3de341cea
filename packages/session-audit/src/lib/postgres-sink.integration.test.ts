import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditRecord } from './audit-record.js'
import { createPostgresAuditSink } from './postgres-sink.js'
import { databaseUrl, postgresAvailable } from '@pikku/framework-testkit/test-services'

const available = await postgresAvailable()

const record = (n: number): AuditRecord => ({
  type: n % 2 === 0 ? 'created' : 'cleared',
  at: new Date(1_800_000_000_000 + n).toISOString(),
  handle: `handle-${n}`,
  userId: `user-${n % 3}`,
  protocol: 'mcp',
  credential: 'bearer',
  label: 'claude-code/1.0',
})

describe.skipIf(!available)('PostgreSQL audit sink', () => {
  let pool: pg.Pool
  // This test's own schema, created by the sink itself and dropped afterwards.
  const schema = `pikku_audit_test_${randomBytes(6).toString('hex')}`
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: databaseUrl, max: 4 })
    pool.on('error', () => undefined)
  })
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await pool.end()
  })

  it('creates its schema and table on first use and appends one row per record', async () => {
    const sink = createPostgresAuditSink({ pool, schema })
    await sink.write([record(1), record(2), record(3)])
    const { rows } = await pool.query<{ type: string; user_id: string; handle: string; protocol: string; at: Date }>(
      `SELECT type, user_id, handle, protocol, at FROM "${schema}".pikku_session_audit ORDER BY seq`,
    )
    expect(rows.map((row) => [row.type, row.user_id, row.handle, row.protocol])).toEqual([
      ['cleared', 'user-1', 'handle-1', 'mcp'],
      ['created', 'user-2', 'handle-2', 'mcp'],
      ['cleared', 'user-0', 'handle-3', 'mcp'],
    ])
    expect(rows[0]!.at.toISOString()).toBe(record(1).at)
  })

  it('reads the last records newest first, as several servers wrote them', async () => {
    const tableName = 'shared_trail'
    const first = createPostgresAuditSink({ pool, schema, tableName })
    const second = createPostgresAuditSink({ pool, schema, tableName })
    for (let n = 0; n < 20; n++) await (n % 2 === 0 ? first : second).write([record(n)])
    expect(await second.recent(5)).toEqual([record(19), record(18), record(17), record(16), record(15)])
    expect(await first.recent(100)).toHaveLength(20)
  })

  it('stores only the audit fields', async () => {
    const tableName = 'fields_only'
    const sink = createPostgresAuditSink({ pool, schema, tableName })
    await sink.write([{ ...record(1), token: 'never-this-token' } as AuditRecord])
    const { rows } = await pool.query<{ record: unknown }>(`SELECT record FROM "${schema}".${tableName}`)
    expect(JSON.stringify(rows)).not.toContain('never-this-token')
    expect(rows[0]!.record).toEqual(record(1))
  })

  it('rejects a write while the database is unreachable (the audit retries it)', async () => {
    const broken = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 500 })
    broken.on('error', () => undefined)
    const sink = createPostgresAuditSink({ pool: broken, schema, tableName: 'outage' })
    await expect(sink.write([record(1)])).rejects.toThrow()
    await broken.end()
  })

  it('refuses table and schema names that are not plain identifiers', () => {
    expect(() => createPostgresAuditSink({ pool, tableName: 'audit; DROP TABLE x' })).toThrow('tableName must be a lower-case identifier')
    expect(() => createPostgresAuditSink({ pool, schema: 'Bad"Schema' })).toThrow('schema must be a lower-case identifier')
    expect(() => createPostgresAuditSink({} as never)).toThrow('createPostgresAuditSink needs { pool }')
  })
})
