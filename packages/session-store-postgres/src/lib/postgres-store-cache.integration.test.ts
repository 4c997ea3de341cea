import { ServiceUnavailableError } from '@pikku/core'
import { createTestClock } from '@pikku/core/testing'
import { describeSessionStoreConformance } from '@pikku/session-store-testkit'
import { describe, expect, it } from 'vitest'
import { postgresAvailable } from '@pikku/framework-testkit/test-services'
import { record, startPostgresProxy, useTestPostgresStores } from './postgres-test-stores.test-support.js'

const available = await postgresAvailable()
const { defer, freshTable, open } = useTestPostgresStores(available)

describe.skipIf(!available)('PostgreSQL store with its read cache', () => {
  describeSessionStoreConformance('PostgreSQL store with its read cache', {
    create: (clock) => open(clock, freshTable(), { cache: { maxEntries: 100 } }),
    destroy: async (store) => {
      await store.close?.()
    },
    eventDelay: 50,
  })

  it('stops answering a session logged out on another server within a second', async () => {
    const clock = createTestClock()
    const table = freshTable()
    const serverA = open(clock, table, { cache: {} })
    const serverB = open(clock, table)
    await serverA.ready()
    const stored = record(clock.now())
    await serverB.set(stored)
    // The first read may be overtaken by the event of B's write, and is then not kept.
    await expect.poll(async () => ((await serverA.get(stored.id)) === undefined ? -1 : serverA.cache!.hits), { timeout: 1_000, interval: 1 }).toBeGreaterThan(0)
    const revokedAt = Date.now()
    await serverB.delete(stored.id, 'revoked')
    await expect.poll(() => serverA.get(stored.id), { timeout: 1_000, interval: 1 }).toBeUndefined()
    expect(Date.now() - revokedAt).toBeLessThan(1_000)
  })

  it('serves nothing from memory once its LISTEN connection is cut, fails while the database is unreachable, and starts empty after the resync', async () => {
    const { proxy, url: proxiedUrl } = await startPostgresProxy()
    defer(() => proxy.close())
    const clock = createTestClock()
    const table = freshTable()
    const other = open(clock, table)
    await other.ready()
    // One pooled connection (the migration's, opened first), then the cache's LISTEN connection.
    const cached = open(clock, table, { connectionString: proxiedUrl, cache: {}, poolSize: 1, maxReconnectDelay: 50, listenerCheckInterval: 0 })
    await cached.ready()
    const listenerConnection = 1
    const kept = record(clock.now())
    const revoked = record(clock.now())
    await other.set(kept)
    await other.set(revoked)
    await expect.poll(async () => (await cached.get(kept.id), await cached.get(revoked.id), cached.cache?.size), { timeout: 1_000, interval: 5 }).toBe(2)

    await proxy.refuseNew()
    proxy.cutConnection(listenerConnection)
    await expect.poll(() => cached.cache?.active, { timeout: 2_000, interval: 5 }).toBe(false)
    expect(cached.cache?.size).toBe(0)
    // A logout whose notification this server never hears: still seen, from the database, whose
    // pooled connection (not the one cut) still answers.
    await other.delete(revoked.id, 'revoked')
    const hits = cached.cache!.hits
    expect(await cached.get(revoked.id)).toBeUndefined()
    expect(await cached.get(kept.id)).toBeDefined()
    expect(await cached.get(kept.id)).toBeDefined()
    expect(cached.cache?.hits).toBe(hits)
    expect(cached.cache?.size).toBe(0)

    // The database unreachable as well: an error (503), never an answer from memory.
    await proxy.cut()
    await expect(cached.get(kept.id)).rejects.toBeInstanceOf(ServiceUnavailableError)

    await proxy.restore()
    await expect.poll(() => cached.cache?.active, { timeout: 5_000, interval: 10 }).toBe(true)
    expect(await cached.get(revoked.id)).toBeUndefined()
    const before = cached.cache!.hits
    await expect.poll(async () => (await cached.get(kept.id), cached.cache!.hits), { timeout: 3_000, interval: 10 }).toBeGreaterThan(before)
  })
})
