/**
 * Child-process entry: `node --expose-gc memory-footprint.js <sessions>`. Fills a memory store
 * with that many sessions (one user each, the benchmark app's profile as data, real token hashes
 * as ids) and prints the heap growth as JSON on stdout.
 */
import { randomBytes } from 'node:crypto'
import { createMemoryStore } from '@pikku/core'
import { newProfile, type Profile } from '../http/app.js'

export interface FootprintResult {
  readonly sessions: number
  readonly heapBeforeMiB: number
  readonly heapAfterMiB: number
  readonly heapGrowthMiB: number
  readonly bytesPerSession: number
  readonly heapLimitMiB: number
  readonly fillSeconds: number
}

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error('run with node --expose-gc')
  process.exit(2)
}
const count = Number(process.argv[2])
if (!Number.isInteger(count) || count <= 0) {
  console.error('usage: memory-footprint.js <sessions>')
  process.exit(2)
}

const { getHeapStatistics } = await import('node:v8')
const settle = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}
const DAY = 86_400_000
// maxEntries: the store's default cap (10,000) would evict; this measures what `count` sessions weigh.
const store = createMemoryStore<Profile>({ sweepInterval: 0, maxEntries: count })
const before = settle()
const started = performance.now()
const now = Date.now()
// Ids shaped like core's token hashes (43 base64url characters), cut from one random buffer
// per 64 Ki sessions rather than minted one by one (a CSPRNG call and a SHA-256 each).
let pool = Buffer.alloc(0)
for (let i = 0; i < count; i++) {
  if (i % 65_536 === 0) pool = randomBytes(32 * 65_536)
  const offset = (i % 65_536) * 32
  const id = pool.toString('base64url', offset, offset + 32)
  const data = newProfile(`user-${i}`)
  await store.set({ id, userId: data.userId, data, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + DAY })
}
const fillSeconds = (performance.now() - started) / 1000
const after = settle()
if (store.size !== count) throw new Error(`the store holds ${store.size} sessions, not ${count}`)
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10
const result: FootprintResult = {
  sessions: count,
  heapBeforeMiB: mib(before),
  heapAfterMiB: mib(after),
  heapGrowthMiB: mib(after - before),
  bytesPerSession: Math.round((after - before) / count),
  heapLimitMiB: mib(getHeapStatistics().heap_size_limit),
  fillSeconds: Math.round(fillSeconds * 10) / 10,
}
process.stdout.write(`${JSON.stringify(result)}\n`)
await store.close?.()
