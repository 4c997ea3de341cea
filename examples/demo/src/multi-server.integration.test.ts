import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { openSocket, startDemoProcess, serviceAvailable, type DemoProcess } from './demo-process.test-support.js'

// Two demo processes share one store: a session made on one is usable on the other over HTTP and
// WebSocket, and a logout on one reaches a socket open on the other within a second, carried by the
// store's own revocation events (Redis pub/sub, PostgreSQL LISTEN/NOTIFY).

const SECRET = 'multi-server-shared-secret-0123456789abcdef'
const redisUp = await serviceAvailable('Redis', '127.0.0.1', 6379)
const postgresUp = await serviceAvailable('PostgreSQL', '127.0.0.1', 5432)

// The demo writes under its fixed key prefix and table names, so the servers get data of this
// file's own: a Redis database index no other test uses (emptied after), and a PostgreSQL schema
// of their own as the connections' search_path (dropped after).
const redisUrl = new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379')
redisUrl.pathname = '/12'
const postgresServer = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `pikku_test_demo_${randomBytes(6).toString('hex')}`
const postgresUrl = new URL(postgresServer)
postgresUrl.searchParams.set('options', `-c search_path=${schema}`)

async function onPostgres(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresServer })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

const stores = [
  {
    kind: 'redis',
    up: redisUp,
    env: { REDIS_URL: redisUrl.toString() },
    prepare: async () => undefined,
    cleanUp: async () => {
      const client = await createClient({ url: redisUrl.toString() }).connect()
      await client.flushDb()
      client.destroy()
    },
  },
  {
    kind: 'postgres',
    up: postgresUp,
    env: { DATABASE_URL: postgresUrl.toString() },
    prepare: () => onPostgres(`CREATE SCHEMA "${schema}"`),
    cleanUp: () => onPostgres(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
  },
] as const

for (const store of stores) {
  describe.skipIf(!store.up)(`two demo servers sharing ${store.kind}`, () => {
    let a: DemoProcess
    let b: DemoProcess

    beforeAll(async () => {
      await store.prepare()
      const env = { SESSION_STORE: store.kind, SESSION_SECRETS: SECRET, ...store.env }
      ;[a, b] = await Promise.all([startDemoProcess(env), startDemoProcess(env)])
    }, 40_000)

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()])
      await store.cleanUp()
    })

    it('shares a session made on A with B, and a logout on B reaches A’s open socket within 1 s', async () => {
      const login = await fetch(`${a.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'alice@example.com', password: 'alice-password' }),
      })
      expect(login.status).toBe(200)
      const { token } = (await login.json()) as { token: string }
      const cookie = login.headers.getSetCookie()[0]!.split(';', 1)[0]!

      // B serves the session over HTTP, by cookie and by bearer token.
      const overHttp = await fetch(`${b.url}/profile`, { headers: { cookie } })
      expect(overHttp.status).toBe(200)
      expect(((await overHttp.json()) as { email: string }).email).toBe('alice@example.com')
      expect((await fetch(`${b.url}/profile`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)

      // ...and over a WebSocket.
      const onB = await openSocket(b.url, cookie)
      expect((await onB.call('getProfile')).result).toMatchObject({ email: 'alice@example.com' })

      const onA = await openSocket(a.url, cookie)
      expect((await onA.call('getProfile')).result).toMatchObject({ email: 'alice@example.com' })

      const logout = await fetch(`${b.url}/logout`, { method: 'POST', headers: { cookie, origin: b.url } })
      expect(logout.status).toBe(200)
      const loggedOutAt = Date.now()

      const event = await onA.nextEvent(1_000)
      expect(event).toMatchObject({ event: 'session', data: { state: 'cleared' } })
      expect(event.receivedAt - loggedOutAt).toBeLessThan(1_000)
      expect((await onA.call('getProfile')).error?.code).toBe('UNAUTHORIZED')
      expect(onA.ws.readyState).toBe(WebSocket.OPEN)

      expect((await fetch(`${a.url}/profile`, { headers: { cookie } })).status).toBe(401)
      expect((await fetch(`${a.url}/profile`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401)
      onA.ws.close()
      onB.ws.close()
    }, 30_000)
  })
}
