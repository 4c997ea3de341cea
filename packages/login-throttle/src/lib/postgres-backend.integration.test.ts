import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createPostgresThrottleBackend } from './postgres-backend.js'
import { describeThrottleBackend } from './throttle-backend-conformance.test-support.js'
import { databaseUrl, postgresAvailable } from '@pikku/framework-testkit/test-services'

const available = await postgresAvailable()

/** A pool and a schema of this test's own; `cleanup` drops the schema and ends the pool. */
async function privateSchema(): Promise<{ pool: pg.Pool; schema: string; cleanup: () => Promise<void> }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 })
  pool.on('error', () => undefined)
  const schema = `pikku_throttle_test_${randomBytes(6).toString('hex')}`
  await pool.query(`CREATE SCHEMA "${schema}"`)
  return {
    pool,
    schema,
    cleanup: async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await pool.end()
    },
  }
}

describe.skipIf(!available)('PostgreSQL', () => {
  // rate-limiter-flexible compares windows with this process's Date.now(), so the clock is moved
  // by faking Date (timers stay real, so the pool works as usual).
  describeThrottleBackend('PostgreSQL', {
    movableClock: true,
    setup: async () => {
      const database = await privateSchema()
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
      return {
        backend: createPostgresThrottleBackend({ pool: database.pool, schema: database.schema }),
        advance: (ms) => vi.setSystemTime(Date.now() + ms),
        cleanup: async () => {
          vi.useRealTimers()
          await database.cleanup()
        },
      }
    },
  })

  describe('PostgreSQL throttle backend', () => {
    let database: Awaited<ReturnType<typeof privateSchema>>
    beforeAll(async () => {
      database = await privateSchema()
    })
    afterAll(async () => {
      await database.cleanup()
    })

    it('creates its table in the given schema on first use, one row per counter and key', async () => {
      const counter = createPostgresThrottleBackend({ pool: database.pool, schema: database.schema, tableName: 'throttle' }).counter('account', 900)
      await counter.hit('alice')
      const { rows } = await database.pool.query<{ key: string; points: number }>(`SELECT key, points FROM "${database.schema}".throttle`)
      expect(rows).toEqual([{ key: 'account:alice', points: 1 }])
    })

    it('two servers on one database share the counts', async () => {
      const other = new pg.Pool({ connectionString: databaseUrl, max: 2 })
      try {
        const first = createPostgresThrottleBackend({ pool: database.pool, schema: database.schema, tableName: 'shared' }).counter('account', 900)
        const second = createPostgresThrottleBackend({ pool: other, schema: database.schema, tableName: 'shared' }).counter('account', 900)
        await first.hit('alice')
        await second.hit('alice')
        expect((await first.hit('alice')).count).toBe(3)
      } finally {
        await other.end()
      }
    })

    it('deletes rows whose window ended, at most once per sweepInterval, from the request path', async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
      try {
        const counter = createPostgresThrottleBackend({ pool: database.pool, schema: database.schema, tableName: 'swept', sweepInterval: 300_000 }).counter('account', 60)
        await counter.hit('alice')
        await counter.hit('bob')
        const rows = async (): Promise<number> => Number((await database.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${database.schema}".swept`)).rows[0]?.n)
        expect(await rows()).toBe(2)
        vi.setSystemTime(Date.now() + 301_000)
        await counter.hit('carol')
        await vi.waitFor(async () => expect(await rows()).toBe(1))
      } finally {
        vi.useRealTimers()
      }
    })

    it('a table that could not be created (missing schema) is created on a later attempt once it can be', async () => {
      const schema = `${database.schema}_late`
      const counter = createPostgresThrottleBackend({ pool: database.pool, schema }).counter('account', 900)
      await expect(counter.hit('alice')).rejects.toThrow(/schema .* does not exist/)
      await database.pool.query(`CREATE SCHEMA "${schema}"`)
      try {
        expect((await counter.hit('alice')).count).toBe(1)
      } finally {
        await database.pool.query(`DROP SCHEMA "${schema}" CASCADE`)
      }
    })

    it('an unreachable database fails the count instead of passing the login', async () => {
      const unreachable = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:9/test', connectionTimeoutMillis: 1_000 })
      unreachable.on('error', () => undefined)
      try {
        const counter = createPostgresThrottleBackend({ pool: unreachable }).counter('account', 60)
        await expect(counter.hit('alice')).rejects.toThrow(/ECONNREFUSED|connect/)
      } finally {
        await unreachable.end()
      }
    })

    it('refuses identifiers that are not plain, and a pool that is not one', () => {
      expect(() => createPostgresThrottleBackend({ pool: database.pool, schema: 'a"b' })).toThrow('schema must be a plain identifier')
      expect(() => createPostgresThrottleBackend({ pool: database.pool, tableName: '1x' })).toThrow('tableName must be a plain identifier')
      expect(() => createPostgresThrottleBackend({ pool: {} as never })).toThrow('createPostgresThrottleBackend needs { pool }: a pg Pool')
    })
  })
})
