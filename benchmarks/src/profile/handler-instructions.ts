/**
 * `node dist/profile/handler-instructions.js <none|memory|redis-cached|postgres-cached> [low] [high]`:
 * user-space instructions per cookie `GET /profile` of Pikku's handler alone, in one process,
 * without sockets or `node:http` (`handler.handle()` as `store-request-cost.js` calls it), counted
 * by `valgrind --tool=callgrind`. The process runs twice under callgrind, serving `low` and then
 * `high` requests (default 20,000 and 100,000) after the same warm-up and a full garbage
 * collection; the difference divided by `high - low` leaves out start-up. It isolates the session
 * layer from the HTTP server's own cost, which `count-instructions.js` includes, and runs in a
 * fraction of its time. Needs the stores `store-request-cost.js` uses (REDIS_URL, DATABASE_URL).
 *
 * `memory-wrapped` and `redis-cached-wrapped` replace the store's `get` with a plain function that
 * calls it: a store wrapper without the synchronous twin (decision 038), so every read takes the
 * promise path, in the same build. Side by side with `memory` and `redis-cached`, the difference is
 * what the twin saves.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createMemoryStore, type SessionStore } from '@pikku/core'
import type { HTTPHandler } from '@pikku/http'
import { createPostgresStore } from '@pikku/session-store-postgres'
import { createRedisStore } from '@pikku/session-store-redis'
import type { Profile } from '../http/app.js'
import { request } from '../http/handler-cost.js'
import { createPikkuHandler } from '../http/variants/pikku-app.js'

const CONFIGS = ['none', 'memory', 'redis-cached', 'postgres-cached', 'memory-wrapped', 'redis-cached-wrapped'] as const
type Config = (typeof CONFIGS)[number]
const USERS = 10

const [configArg, lowArg, highArg, childCount] = process.argv.slice(2)
if (!CONFIGS.includes(configArg as Config)) {
  console.error(`usage: handler-instructions.js <${CONFIGS.join('|')}> [low] [high]`)
  process.exit(2)
}
const config = configArg as Config

if (childCount === undefined) {
  const low = Number(lowArg ?? 20_000)
  const high = Number(highArg ?? 100_000)
  if (!(Number.isInteger(low) && Number.isInteger(high) && low > 0 && high > low)) throw new Error(`low and high must be whole numbers with 0 < low < high; got ${lowArg} and ${highArg}`)
  const workDir = mkdtempSync(join(tmpdir(), 'pikku-handler-instructions-'))
  const count = async (requests: number): Promise<number> => {
    const outFile = join(workDir, `callgrind.${requests}`)
    const child = spawn(
      'valgrind',
      ['-q', '--tool=callgrind', `--callgrind-out-file=${outFile}`, process.execPath, '--single-threaded', '--expose-gc', fileURLToPath(import.meta.url), config, '0', '0', String(requests)],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    if (code !== 0) throw new Error(`the counted process exited with ${code}`)
    const summary = /^(?:summary|totals): (\d+)/m.exec(readFileSync(outFile, 'utf8'))
    if (summary === null) throw new Error(`no instruction total in ${outFile}`)
    return Number(summary[1])
  }
  try {
    const lowTotal = await count(low)
    const highTotal = await count(high)
    const per = Math.round((highTotal - lowTotal) / (high - low))
    console.log(`${config} GET /profile in-process: ${per.toLocaleString('en-US')} instructions per request (callgrind, ${low} and ${high})`)
  } finally {
    rmSync(workDir, { recursive: true, force: true })
  }
} else {
  const requests = Number(childCount)
  const prefix = `pikku-handler-instructions:${process.pid}`
  const tableName = `pikku_handler_instructions_${process.pid}`
  const timeouts = { connectTimeout: 120_000, commandTimeout: 120_000 }
  const base = config.endsWith('-wrapped') ? config.slice(0, -'-wrapped'.length) : config
  const opened: (SessionStore<Profile> & { close?: () => Promise<void> }) | undefined =
    base === 'none'
      ? undefined
      : base === 'memory'
        ? createMemoryStore<Profile>({ sweepInterval: 0 })
        : base === 'redis-cached'
          ? createRedisStore<Profile>({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', keyPrefix: prefix, cache: {}, subscriberCheckInterval: 0, ...timeouts })
          : createPostgresStore<Profile>({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test', tableName, cache: {}, sweepInterval: 0, listenerCheckInterval: 0, connectTimeout: 120_000 })
  // The wrapper keeps every member (the cache view included) but get, whose function has no twin.
  const store = opened === undefined || base === config ? opened : Object.assign(Object.create(opened) as typeof opened, { get: (id: string) => opened.get(id) })
  const handler: HTTPHandler = createPikkuHandler(store === undefined ? { credential: 'none' } : { store, credential: 'cookie' })
  const users = Array.from({ length: USERS }, (_, i) => `count-${i}`)
  const headers: Record<string, string>[] = []
  try {
    for (const username of users) {
      const login = await handler.handle(request('POST', '/login', { 'content-type': 'application/json' }, JSON.stringify({ username })))
      if (login.status !== 200) throw new Error(`login answered ${login.status}`)
      const cookie = login.headers.find(([name]) => name === 'set-cookie')?.[1].split(';', 1)[0]
      headers.push(cookie === undefined ? {} : { cookie })
    }
    await (store as { ready?: () => Promise<void> } | undefined)?.ready?.()
    await new Promise((resolve) => setTimeout(resolve, 500))
    const run = async (count: number): Promise<void> => {
      let bad = 0
      await Promise.all(
        users.map(async (_, worker) => {
          const incoming = request('GET', '/profile', headers[worker]!)
          for (let i = worker; i < count; i += USERS) if ((await handler.handle(incoming)).status !== 200) bad++
        }),
      )
      if (bad > 0) throw new Error(`${bad} answers were not 200: not a valid count`)
    }
    await run(20_000)
    ;(globalThis as { gc?: () => void }).gc?.()
    const cache = (store as { cache?: { hits: number; misses: number; bypassed: number } } | undefined)?.cache
    const hitsBefore = cache?.hits ?? 0
    await run(requests)
    // The loop never yields to the event loop on a hit, so the store's subscription check (which
    // would find its heartbeat unheard and empty the cache) is off above; every read must be a hit.
    if (cache !== undefined && cache.hits - hitsBefore !== requests) {
      throw new Error(`${cache.hits - hitsBefore} of ${requests} reads were cache hits (${cache.misses} misses, ${cache.bypassed} bypassed in all): not a count of the cached read`)
    }
  } finally {
    if (base === 'redis-cached') for (const userId of users) await store!.deleteByUser(userId).catch(() => undefined)
    await store?.close?.()
    if (base === 'postgres-cached') {
      const pg = (await import('pg')).default
      const admin = new pg.Client({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test' })
      await admin.connect()
      await admin.query(`DROP TABLE IF EXISTS "${tableName}", "${tableName}_schema"`)
      await admin.end()
    }
  }
}
