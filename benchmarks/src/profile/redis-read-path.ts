/**
 * `node dist/profile/redis-read-path.js`: where the Redis store's read of a session spends its
 * time. Times, in this process, the CPU microseconds per read of the same session record through
 * each layer, from the bare client up: `HGETALL` through node-redis (as the store reads), `GET` of
 * the same record stored as one JSON string (the layout connect-redis uses), the store's `get()`,
 * and the store's `get()` with its read cache; then the store's versioned `update()` (the write of
 * a `PUT`), for the write path. Each variant runs for BENCH_SECONDS (default 2)
 * with BENCH_CONCURRENCY callers (default 10, as a server with 10 connections would), in
 * BENCH_ROUNDS interleaved rounds (default 3); the table gives the median.
 */
import { randomBytes } from 'node:crypto'
import type { SessionRecord } from '@pikku/core'
import { createRedisStore } from '@pikku/session-store-redis'
import { createClient } from 'redis'
import { newProfile, type Profile } from '../http/app.js'
import { formatTable } from '../report/table.js'

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'
const seconds = Number(process.env['BENCH_SECONDS'] ?? 2)
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 10)
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3)
const prefix = `pikku-bench-read:${process.pid}`

const plain = createStore(false)
const cached = createStore(true)
function createStore(cache: boolean) {
  return createRedisStore<Profile>({ url, keyPrefix: prefix, cache: cache ? {} : false })
}
const client = createClient({ url })
await client.connect()
await cached.ready()

const now = Date.now()
const data = newProfile('reader')
const record: SessionRecord<Profile> = { id: randomBytes(32).toString('base64url'), userId: data.userId, data, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + 86_400_000 }
await plain.set(record)
const hashKey = `${prefix}:s:{${record.id}}`
const stringKey = `${prefix}:json:${record.id}`
await client.set(stringKey, JSON.stringify(record), { PX: 86_400_000 })

// One record per caller for the update loop, each caller writing the version it last wrote.
const writers = await Promise.all(
  Array.from({ length: concurrency }, async (_, i) => {
    const own: SessionRecord<Profile> = { ...record, id: randomBytes(32).toString('base64url'), userId: `writer-${i}`, data: newProfile(`writer-${i}`) }
    await plain.set(own)
    return { record: own, version: 1 }
  }),
)
// Each caller takes a record nobody else is writing, so no update ever conflicts.
const idle = [...writers]
const update = async (): Promise<unknown> => {
  const writer = idle.pop()!
  const data = { ...writer.record.data, preferences: { theme: writer.version % 2 === 0 ? 'dark' : 'light', fontSize: 14 } }
  const result = await plain.update(writer.record.id, writer.version, { data, lastActiveAt: Date.now(), expiresAt: writer.record.expiresAt })
  if (result !== 'ok') throw new Error(`update returned ${result}`)
  writer.version++
  idle.push(writer)
  return result
}

const variants: Record<string, () => Promise<unknown>> = {
  'node-redis HGETALL (no parse)': () => client.hGetAll(hashKey),
  'node-redis HGETALL + JSON.parse(data)': async () => JSON.parse((await client.hGetAll(hashKey))['d']!) as unknown,
  'node-redis GET + JSON.parse (connect-redis layout)': async () => JSON.parse((await client.get(stringKey))!) as unknown,
  'store.get() (no cache)': () => plain.get(record.id),
  'store.get() with the read cache': () => cached.get(record.id),
  'store.update() (the write of a PUT)': update,
}

/** CPU µs per operation and operations per second for `operation` run by `concurrency` callers. */
async function measure(operation: () => Promise<unknown>): Promise<{ cpu: number; rate: number }> {
  let count = 0
  const deadline = performance.now() + seconds * 1000
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        for (let i = 0; i < 16; i++) {
          await operation()
          count++
        }
      }
    }),
  )
  const cpu = process.cpuUsage(cpuBefore)
  return { cpu: (cpu.user + cpu.system) / count, rate: count / ((performance.now() - started) / 1000) }
}

const samples = new Map<string, { cpu: number[]; rate: number[] }>()
for (const name of Object.keys(variants)) samples.set(name, { cpu: [], rate: [] })
for (const name of Object.keys(variants)) await measure(variants[name]!) // warm-up
for (let round = 0; round < rounds; round++) {
  for (const [name, operation] of Object.entries(variants)) {
    const { cpu, rate } = await measure(operation)
    samples.get(name)!.cpu.push(cpu)
    samples.get(name)!.rate.push(rate)
  }
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
console.log(`Redis read path, ${concurrency} concurrent callers, ${rounds} rounds of ${seconds} s (medians; CPU of this process only, Redis not counted)`)
console.log(
  formatTable(
    ['operation', 'CPU µs/op', 'ops/s'],
    [...samples].map(([name, s]) => [name, Math.round(median(s.cpu) * 10) / 10, Math.round(median(s.rate))]),
  ),
)
for (const writer of writers) await plain.delete(writer.record.id)
await plain.delete(record.id)
await client.del(stringKey)
client.destroy()
await Promise.all([plain.close(), cached.close()])
