/**
 * `node dist/profile/store-request-cost.js <store> <route> [requests] [concurrency]` (COST_USERS=n
 * for n users shared by the workers; one each by default): CPU time per
 * request of Pikku's handler on a real store, in this process, without sockets. `store` is one of
 * memory, redis, redis-cached, postgres, postgres-cached; `route` is "GET /profile" or
 * "PUT /preferences". Reports this process's CPU µs per request (`process.cpuUsage`, which other
 * work on the machine does not add to) and, on PostgreSQL, the CPU µs per request of the server
 * backends that served this process's connections (read from `/proc/<pid>/stat`, so PostgreSQL
 * must run on this machine), plus the statements per request from `pg_stat_statements` when that
 * extension is installed, the server's WAL flushes and WAL bytes per request (`pg_stat_wal`: commits
 * that share a flush show as fewer than one flush), and how many of the session table's row updates
 * were HOT (`pg_stat_user_tables`: no index entry written). The wall-clock rate is printed for
 * orientation only.
 *
 * Run with `node --cpu-prof` to see where the process's own time goes
 * (`summarise-profile.js`).
 */
import { readFileSync } from 'node:fs'
import { createMemoryStore, type SessionStore } from '@pikku/core'
import type { HTTPHandler } from '@pikku/http'
import { createPostgresStore } from '@pikku/session-store-postgres'
import { createRedisStore } from '@pikku/session-store-redis'
import pg from 'pg'
import type { Profile } from '../http/app.js'
import { request } from '../http/handler-cost.js'
import { createPikkuHandler } from '../http/variants/pikku-app.js'

const [storeName, route, requestsArg = '20000', concurrencyArg = '10'] = process.argv.slice(2)
const STORES = ['memory', 'redis', 'redis-cached', 'postgres', 'postgres-cached'] as const
type StoreName = (typeof STORES)[number]
if (!STORES.includes(storeName as StoreName) || (route !== 'GET /profile' && route !== 'PUT /preferences')) {
  console.error(`usage: store-request-cost.js <${STORES.join('|')}> <"GET /profile"|"PUT /preferences"> [requests] [concurrency]`)
  process.exit(2)
}
const requests = Number(requestsArg)
const concurrency = Number(concurrencyArg)

const applicationName = `pikku_cost_${process.pid}`
const connectionString = `${process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'}?application_name=${applicationName}`
const tableName = `pikku_cost_${process.pid}`

function openStore(name: StoreName): SessionStore<Profile> & { close?: () => Promise<void> } {
  const cache = name.endsWith('-cached') ? {} : false
  if (name === 'memory') return createMemoryStore<Profile>({ sweepInterval: 0 })
  if (name.startsWith('redis')) {
    return createRedisStore<Profile>({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: `pikku-cost:${process.pid}`, cache })
  }
  return createPostgresStore<Profile>({ connectionString, tableName, cache, sweepInterval: 0 })
}

const store = openStore(storeName as StoreName)
const handler: HTTPHandler = createPikkuHandler({ store, credential: 'cookie' })
const admin = storeName!.startsWith('postgres') ? new pg.Pool({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test', max: 1 }) : undefined

/** CPU ticks (user + system) of this process's PostgreSQL backends, in µs. */
async function backendMicros(): Promise<number> {
  if (admin === undefined) return 0
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])
  const tick = 1_000_000 / 100
  let total = 0
  for (const { pid } of rows) {
    try {
      // Fields 14 and 15 (utime, stime) after the parenthesised command name.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      total += (Number(fields[11]) + Number(fields[12])) * tick
    } catch {
      // A backend that ended between the two reads.
    }
  }
  return total
}

/** WAL flushes (fsync) and bytes of the whole server so far (pg_stat_wal, PostgreSQL 14+): other clients add to them. */
async function walTotals(): Promise<{ syncs: number; bytes: number }> {
  if (admin === undefined) return { syncs: 0, bytes: 0 }
  const { rows } = await admin.query<{ wal_sync: string; wal_bytes: string }>('SELECT wal_sync, wal_bytes FROM pg_stat_wal')
  return { syncs: Number(rows[0]!.wal_sync), bytes: Number(rows[0]!.wal_bytes) }
}

/** Row updates of the run's table, and how many of them were HOT (no index entry written). */
async function tableUpdates(): Promise<{ updates: number; hot: number } | undefined> {
  if (admin === undefined) return undefined
  const { rows } = await admin.query<{ n_tup_upd: string; n_tup_hot_upd: string }>(
    'SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = $1',
    [tableName],
  )
  return rows[0] === undefined ? undefined : { updates: Number(rows[0].n_tup_upd), hot: Number(rows[0].n_tup_hot_upd) }
}

async function statementCalls(): Promise<number | undefined> {
  if (admin === undefined) return undefined
  try {
    const { rows } = await admin.query<{ calls: string }>(
      `SELECT coalesce(sum(calls), 0) AS calls FROM pg_stat_statements WHERE query ILIKE '%' || $1 || '%'`,
      [tableName],
    )
    return Number(rows[0]!.calls)
  } catch {
    return undefined
  }
}

// A backend reports its WAL statistics when it exits (or after seconds idle): counted from before
// the store opens to after it closed, over every request of the run (logins and warm-up included).
const wal0 = await walTotals()
// COST_USERS: fewer users than workers, who then share sessions (as one user's parallel requests do).
const userCount = Number(process.env['COST_USERS'] ?? concurrency)
const users = Array.from({ length: userCount }, (_, i) => `cost-${i}`)
const workers = Array.from({ length: concurrency }, (_, i) => i)
try {
  const cookies: string[] = []
  for (const username of users) {
    const login = await handler.handle(request('POST', '/login', { 'content-type': 'application/json' }, JSON.stringify({ username })))
    if (login.status !== 200) throw new Error(`login answered ${login.status}`)
    cookies.push(login.headers.find(([name]) => name === 'set-cookie')![1].split(';', 1)[0]!)
  }
  // The cache trusts events only once the subscription is confirmed.
  await (store as { ready?: () => Promise<void> }).ready?.()
  await new Promise((resolve) => setTimeout(resolve, 200))
  // Each worker's PUT bodies alternate between two values that both differ from the stored one, so
  // every PUT is a real change (as in the HTTP benchmark).
  const make = (worker: number, turn: number) =>
    route === 'GET /profile'
      ? request('GET', '/profile', { cookie: cookies[worker % userCount]! })
      : request('PUT', '/preferences', { cookie: cookies[worker % userCount]!, 'content-type': 'application/json' }, `{"theme":"dark","fontSize":${20 + (turn % 2)}}`)
  const run = async (count: number): Promise<void> => {
    let bad = 0
    await Promise.all(
      workers.map(async (worker) => {
        for (let i = worker, turn = 0; i < count; i += concurrency, turn++) {
          const answer = await handler.handle(make(worker, turn))
          if (answer.status !== 200) bad++
        }
      }),
    )
    if (bad > 0) throw new Error(`${bad} answers were not 200: not a valid measurement`)
  }
  await run(Math.min(requests, 5000))
  const calls0 = await statementCalls()
  const backend0 = await backendMicros()
  const cpu0 = process.cpuUsage()
  const started = performance.now()
  await run(requests)
  const wall = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  const backend = (await backendMicros()) - backend0
  const calls1 = await statementCalls()
  const per = (micros: number): string => (micros / requests).toFixed(1)
  await store.close?.()
  await new Promise((resolve) => setTimeout(resolve, 300))
  const wal1 = await walTotals()
  const syncs = wal1.syncs - wal0.syncs
  const walBytes = wal1.bytes - wal0.bytes
  const updates = await tableUpdates()
  const allRequests = requests + Math.min(requests, 5000) + concurrency
  const cache = (store as { cache?: { hits: number; misses: number; bypassed: number } }).cache
  console.log(
    [
      `${storeName} ${route}: ${requests} requests, ${concurrency} at a time`,
      `  this process: ${per(cpu.user + cpu.system)} µs CPU per request (user ${per(cpu.user)}, system ${per(cpu.system)})`,
      ...(admin === undefined
        ? []
        : [
            `  PostgreSQL backends: ${per(backend)} µs CPU per request (10 ms ticks)`,
            `  WAL flushes per request: ${(syncs / allRequests).toFixed(2)} (the whole server's, logins and warm-up included; 1.00: no two commits shared a flush)`,
            `  WAL bytes per request: ${Math.round(walBytes / allRequests)} (likewise)`,
            ...(updates === undefined ? [] : [`  row updates: ${updates.updates}, of which HOT: ${updates.hot} (${((100 * updates.hot) / Math.max(1, updates.updates)).toFixed(1)} %)`]),
          ]),
      ...(calls0 === undefined || calls1 === undefined ? [] : [`  statements per request: ${((calls1 - calls0) / requests).toFixed(2)} (pg_stat_statements)`]),
      ...(cache === undefined ? [] : [`  cache: ${cache.hits} hits, ${cache.misses} misses, ${cache.bypassed} bypassed`]),
      `  wall: ${Math.round((requests * 1000) / wall)} req/s (orientation only: the machine is shared)`,
    ].join('\n'),
  )
} finally {
  // Nothing of this run stays in Redis (the PostgreSQL table and its procedures are dropped below).
  if (storeName!.startsWith('redis')) {
    const cleanup = openStore(storeName as StoreName)
    for (const userId of users) await cleanup.deleteByUser(userId).catch(() => undefined)
    await cleanup.close?.()
  }
  await store.close?.()
  if (admin !== undefined) {
    await admin.query(`DROP TABLE IF EXISTS "${tableName}", "${tableName}_schema"`)
    await admin.query(`DROP PROCEDURE IF EXISTS "${tableName}_update", "${tableName}_touch"`)
    await admin.end()
  }
}
