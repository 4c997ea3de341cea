import { randomBytes } from 'node:crypto'
import { type CoreUserSession, type SessionEvent, type SessionRecord, silentLogger } from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { generateSessionToken, hashSessionToken } from '@pikku/core/store'
import { describeSessionStoreConformance } from '@pikku/session-store-testkit'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { postgresSessionSchema } from './postgres-schema.js'
import { createPostgresStore, type PostgresStore, type PostgresStoreOptions } from './postgres-store.js'
import { databaseUrl, postgresAvailable } from '@pikku/framework-testkit/test-services'

type TestSession = CoreUserSession & Record<string, unknown>
const available = await postgresAvailable()

// The app's pool, and schemas of this file's own (made by the stores' migration, dropped after).
const appPool = new pg.Pool({ connectionString: databaseUrl, max: 6 })
appPool.on('error', () => undefined)
const schemas: string[] = []
const opened: PostgresStore<TestSession>[] = []

function freshSchema(): string {
  const schema = `pikku_test_${randomBytes(6).toString('hex')}`
  schemas.push(schema)
  return schema
}

function open(clock: TestClock, schema = freshSchema(), extra: PostgresStoreOptions = {}): PostgresStore<TestSession> {
  const store = createPostgresStore<TestSession>({ pool: appPool, schema, clock: clock.now, logger: silentLogger, sweepInterval: 0, queryTimeout: 2_000, ...extra })
  opened.push(store)
  return store
}

function record(now: number): SessionRecord<TestSession> {
  return { id: hashSessionToken(generateSessionToken()), userId: 'alice', data: { userId: 'alice' }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + 60_000 }
}

async function tablesIn(schema: string): Promise<string[]> {
  const { rows } = await appPool.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])
  return rows.map((row) => row.table_name)
}

describe.skipIf(!available)('PostgreSQL store on the app pool, in a schema of its own', () => {
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()))
    for (const schema of schemas.splice(0)) await appPool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  })

  afterAll(async () => {
    await appPool.end()
  })

  describeSessionStoreConformance('PostgreSQL store on the app pool in its own schema', {
    create: (clock) => open(clock),
    destroy: async (store) => {
      await store.close?.()
    },
    eventDelay: 20,
  })

  it('creates the schema and keeps every table in it, none in public', async () => {
    const clock = createTestClock()
    const schema = freshSchema()
    const store = open(clock, schema, { tableName: 'app_sessions' })
    await store.set(record(clock.now()))
    expect(await tablesIn(schema)).toEqual(['app_sessions', 'app_sessions_schema'])
    expect(await tablesIn('public')).not.toContain('app_sessions')
    const { rows } = await appPool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"."app_sessions"`)
    expect(rows[0]?.n).toBe('1')
  })

  it('keeps stores in two schemas apart: same table name, neither sees nor hears the other', async () => {
    const clock = createTestClock()
    const one = open(clock, freshSchema())
    const two = open(clock, freshSchema())
    const heardByTwo: SessionEvent[] = []
    two.subscribe((event) => heardByTwo.push(event))
    await two.ready()
    const stored = record(clock.now())
    await one.set(stored)
    await one.delete(stored.id)
    expect(await two.get(stored.id)).toBeUndefined()
    // A store in the same schema as `one` hears it: the check below is not vacuous.
    const sameSchema = open(clock, schemas[schemas.length - 2])
    const heardBySame: SessionEvent[] = []
    sameSchema.subscribe((event) => heardBySame.push(event))
    await sameSchema.ready()
    const second = record(clock.now())
    await one.set(second)
    await expect.poll(() => heardBySame.length, { timeout: 1_000, interval: 5 }).toBe(1)
    expect(heardByTwo).toEqual([])
  })

  it('gives back the connection it listened on and leaves the app pool open', async () => {
    const clock = createTestClock()
    const store = open(clock)
    await store.ready()
    const before = appPool.totalCount
    store.subscribe(() => undefined)
    await store.ready()
    await store.close()
    // The LISTEN connection is destroyed rather than reused; the app's pool keeps working.
    await expect.poll(() => appPool.totalCount, { timeout: 2_000, interval: 10 }).toBeLessThanOrEqual(before)
    expect(appPool.ended).toBe(false)
    expect((await appPool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 })
  })

  it('works on a schema applied by hand with postgresSessionSchema({ schema }) and migrate: false', async () => {
    const clock = createTestClock()
    const schema = freshSchema()
    await appPool.query(postgresSessionSchema({ schema, tableName: 'by_hand' }))
    const store = open(clock, schema, { tableName: 'by_hand', migrate: false })
    const stored = record(clock.now())
    await store.set(stored)
    expect((await store.get(stored.id))?.userId).toBe('alice')
    expect(await tablesIn(schema)).toEqual(['by_hand'])
  })

  it('refuses to write on a connection the app gave back inside a transaction, saying so, instead of joining it', async () => {
    const clock = createTestClock()
    const single = new pg.Pool({ connectionString: databaseUrl, max: 1 })
    single.on('error', () => undefined)
    try {
      const store = open(clock, freshSchema(), { pool: single })
      const stored = record(clock.now())
      await store.set(stored)
      // The app's mistake: a transaction left open on a connection it released.
      const leaked = await single.connect()
      await leaked.query('BEGIN')
      leaked.release()
      const change = { data: { userId: 'alice', theme: 'dark' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt }
      await expect(store.update(stored.id, 1, change)).rejects.toThrow(/inside a transaction.*COMMIT or ROLLBACK before release\(\)/)
      await single.query('ROLLBACK')
      // Nothing was written, and with the connection in order the same update goes through.
      expect((await store.get(stored.id))?.version).toBe(1)
      expect(await store.update(stored.id, 1, change)).toBe('ok')
      await store.close()
    } finally {
      await single.end()
    }
  })
})
