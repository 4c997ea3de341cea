import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe } from 'vitest'
import { serviceAvailable, startDemoProcess, type DemoProcess } from './demo-process.test-support.js'
import { type Servers, signedInEverywhereCases } from './signed-in-everywhere.scenarios.test-support.js'

// "Where you're signed in" across two demo processes sharing a store: the cookie, socket and MCP
// clients sign in on A, the bearer-token and CLI clients on B, and the user lists and revokes on B,
// so every revocation reaches A through the store (Redis pub/sub, PostgreSQL LISTEN/NOTIFY).
// Each run keeps its data apart: Redis database 13 (emptied before and after), and a PostgreSQL
// schema of its own (dropped after).

const SECRET = 'signed-in-everywhere-shared-secret-0123456789'
const redisUp = await serviceAvailable('Redis', '127.0.0.1', 6379)
const postgresUp = await serviceAvailable('PostgreSQL', '127.0.0.1', 5432)

const REDIS_URL = `${process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'}/13`
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

function spread(a: DemoProcess, b: DemoProcess): Servers {
  return { placement: { cookie: a.url, bearer: b.url, socket: a.url, cli: b.url, mcp: a.url }, manage: b.url }
}

async function emptyRedisDatabase(): Promise<void> {
  const client = createClient({ url: REDIS_URL })
  await client.connect()
  await client.flushDb()
  await client.quit()
}

describe.skipIf(!redisUp)("where you're signed in, across two demo processes sharing Redis", () => {
  let a: DemoProcess
  let b: DemoProcess

  beforeAll(async () => {
    await emptyRedisDatabase()
    const env = { SESSION_STORE: 'redis', SESSION_SECRETS: SECRET, REDIS_URL }
    ;[a, b] = await Promise.all([startDemoProcess(env), startDemoProcess(env)])
  }, 40_000)

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await emptyRedisDatabase()
  })

  signedInEverywhereCases(() => spread(a, b))
})

describe.skipIf(!postgresUp)("where you're signed in, across two demo processes sharing PostgreSQL", () => {
  const schema = `demo_sessions_${randomBytes(4).toString('hex')}`
  let a: DemoProcess
  let b: DemoProcess

  async function admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: DATABASE_URL })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }

  beforeAll(async () => {
    await admin(`CREATE SCHEMA ${schema}`)
    // Every connection of both processes works in the schema: pg passes `options` to the server.
    const url = new URL(DATABASE_URL)
    url.searchParams.set('options', `-c search_path=${schema}`)
    const env = { SESSION_STORE: 'postgres', SESSION_SECRETS: SECRET, DATABASE_URL: url.toString() }
    ;[a, b] = await Promise.all([startDemoProcess(env), startDemoProcess(env)])
  }, 40_000)

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  })

  signedInEverywhereCases(() => spread(a, b))
})
