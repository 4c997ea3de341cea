// Runs the session lifecycle against a real Redis or PostgreSQL store from whichever runtime runs
// this file (Node, Bun or Deno), printing one JSON line with what happened. Everything it writes
// is under its own key prefix or table, and removed before it exits.
import { createSessionManager, type SessionEvent } from '@pikku/core'
import { createPostgresStore } from '@pikku/session-store-postgres'
import { createRedisStore } from '@pikku/session-store-redis'
import pg from 'pg'

const kind = process.argv[2]
const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`
const redisPrefix = `pikku-runtime-probe-${suffix}:`
const table = `pikku_runtime_probe_${suffix}`

const store =
  kind === 'redis'
    ? createRedisStore({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: redisPrefix })
    : createPostgresStore({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test', tableName: table })

const events: string[] = []
try {
  await store.ready()
  const sessions = createSessionManager({ store })
  const unsubscribe = sessions.subscribe((event: SessionEvent) => events.push(event.type))
  const state = sessions.createState()
  await state.set({ userId: 'u-probe', email: 'probe@example.com', preferences: {} })
  const created = await sessions.commit(state)
  if (created.kind !== 'created') throw new Error(`login stored nothing: ${created.kind}`)
  const loaded = await sessions.loadByToken(created.token)
  await sessions.revoke(created.record.id)
  const afterRevoke = await sessions.loadByToken(created.token)
  // Events arrive through pub/sub or LISTEN: give them a moment.
  for (let i = 0; i < 50 && !events.includes('deleted'); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  unsubscribe()
  console.log(JSON.stringify({ loaded: loaded?.userId ?? null, afterRevoke: afterRevoke?.userId ?? null, events }))
} finally {
  await store.close()
  if (kind === 'postgres') {
    const client = new pg.Client({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test' })
    await client.connect()
    await client.query(`DROP TABLE IF EXISTS ${table}, ${table}_schema`)
    await client.query(`DROP PROCEDURE IF EXISTS ${table}_update, ${table}_touch`)
    await client.end()
  }
}
