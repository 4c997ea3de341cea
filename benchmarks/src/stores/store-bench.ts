import { randomBytes } from 'node:crypto'
import type { SessionRecord } from '@pikku/core'
import { newProfile, type Profile } from '../http/app.js'
import { round } from '../report/stats.js'
import { STORE_FACTORIES } from './store-factories.js'

export interface StoreOpResult {
  /** Operations per second with one caller awaiting each operation in turn. */
  readonly sequential: number
  /** Operations per second with `concurrency` callers (pipelined on network stores). */
  readonly concurrent: number
}

export interface StoreBenchResult {
  readonly store: string
  readonly unavailable?: string
  readonly get?: StoreOpResult
  readonly set?: StoreOpResult
  readonly update?: StoreOpResult
}

export interface StoreBenchOptions {
  /** Records present before timing. */
  readonly records: number
  /** Seconds per operation and mode. */
  readonly seconds: number
  readonly concurrency: number
}

const DAY = 86_400_000

// Ids shaped like core's token hashes (43 base64url characters), cut from one random buffer so
// that minting them (a CSPRNG call and a SHA-256 each) is not part of what is timed.
let idPool = Buffer.alloc(0)
let idOffset = 0
function newId(): string {
  if (idOffset + 32 > idPool.length) {
    idPool = randomBytes(32 * 4096)
    idOffset = 0
  }
  idOffset += 32
  return idPool.toString('base64url', idOffset - 32, idOffset)
}

function newRecord(index: number, prefix: string): SessionRecord<Profile> {
  const now = Date.now()
  const data = newProfile(`${prefix}-${index}`)
  return { id: newId(), userId: data.userId, data, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + DAY }
}

/** Runs `operation` for `seconds` from `callers` loops at once; returns operations per second. */
async function opsPerSecond(seconds: number, callers: number, operation: (i: number) => Promise<unknown>): Promise<number> {
  let count = 0
  const deadline = performance.now() + seconds * 1000
  const started = performance.now()
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      // Check the clock every few operations only: performance.now() is not free at memory speed.
      for (let i = 0; i < 16; i++) await operation(count++)
    }
  }
  await Promise.all(Array.from({ length: callers }, loop))
  return count / ((performance.now() - started) / 1000)
}

/** get / set / update throughput of each store, in this process. */
export async function runStoreBench(options: StoreBenchOptions, log: (line: string) => void): Promise<StoreBenchResult[]> {
  const results: StoreBenchResult[] = []
  for (const factory of STORE_FACTORIES) {
    const users = new Set<string>()
    const opened = await factory(() => users)
    if ('unavailable' in opened) {
      log(`  ${opened.name}: skipped (${opened.unavailable})`)
      results.push({ store: opened.name, unavailable: opened.unavailable })
      continue
    }
    const { store } = opened
    try {
      const prefix = `bench-${process.pid}`
      const records = Array.from({ length: options.records }, (_, i) => newRecord(i, prefix))
      const versions = new Map<string, number>()
      for (let i = 0; i < records.length; i += 100) {
        await Promise.all(records.slice(i, i + 100).map((record) => store.set(record)))
      }
      for (const record of records) {
        users.add(record.userId)
        versions.set(record.id, 1)
      }
      const pick = (i: number): SessionRecord<Profile> => records[(i * 7919) % records.length]!
      const get = (i: number): Promise<unknown> => store.get(pick(i).id)
      let created = 0
      const set = (): Promise<unknown> => {
        const record = newRecord(created++, `${prefix}-new`)
        users.add(record.userId)
        return store.set(record)
      }
      // Each caller updates its own records, so versions never conflict and every update writes.
      const update = async (i: number): Promise<unknown> => {
        const record = pick(i)
        const version = versions.get(record.id)!
        versions.set(record.id, version + 1)
        const now = Date.now()
        const result = await store.update(record.id, version, {
          data: { ...record.data, preferences: { theme: 'dark', fontSize: i % 40 } },
          lastActiveAt: now,
          expiresAt: now + DAY,
        })
        if (result !== 'ok') versions.set(record.id, version)
        return result
      }
      const measureBoth = async (operation: (i: number) => Promise<unknown>): Promise<StoreOpResult> => ({
        sequential: round(await opsPerSecond(options.seconds, 1, operation), 0),
        concurrent: round(await opsPerSecond(options.seconds, options.concurrency, operation), 0),
      })
      const result: StoreBenchResult = {
        store: opened.name,
        get: await measureBoth(get),
        set: await measureBoth(set),
        // Updates run one caller per record range: concurrent updates of one record would conflict.
        update: await measureBoth(update),
      }
      log(`  ${opened.name}: get ${result.get!.sequential}/${result.get!.concurrent}, set ${result.set!.sequential}/${result.set!.concurrent}, update ${result.update!.sequential}/${result.update!.concurrent} ops/s`)
      results.push(result)
    } finally {
      await opened.close()
    }
  }
  return results
}
