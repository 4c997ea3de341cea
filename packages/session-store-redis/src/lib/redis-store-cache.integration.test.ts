import { ServiceUnavailableError } from '@pikku/core'
import { createTestClock } from '@pikku/core/testing'
import { describeSessionStoreConformance } from '@pikku/session-store-testkit'
import { describe, expect, it } from 'vitest'
import { createRedisStore } from './redis-store.js'
import { redisAvailable } from '@pikku/framework-testkit/test-services'
import { record, startRedisProxy, useTestRedisStores } from './redis-test-stores.test-support.js'

const available = await redisAvailable()
const { closeStores, freshPrefix, open } = useTestRedisStores(available)

describe.skipIf(!available)('Redis store with its read cache', () => {
  describeSessionStoreConformance('Redis store with its read cache', {
    create: (clock) => open(clock, freshPrefix(), { cache: { maxEntries: 100 } }),
    destroy: async (store) => {
      await store.close?.()
    },
    eventDelay: 20,
  })

  it('answers a repeated read from memory once its subscription is confirmed', async () => {
    const clock = createTestClock()
    const store = open(clock, freshPrefix(), { cache: {} })
    await store.ready()
    const stored = record(clock.now())
    await store.set(stored)
    expect(await store.get(stored.id)).toEqual(stored)
    expect(await store.get(stored.id)).toEqual(stored)
    expect(store.cache).toMatchObject({ active: true, size: 1 })
    expect(store.cache?.hits).toBeGreaterThanOrEqual(2)
  })

  it('stops answering a session logged out on another server within a second', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const serverA = open(clock, prefix, { cache: {} })
    const serverB = open(clock, prefix)
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

  it('serves nothing from memory once its event connection is cut, fails while Redis is unreachable, and starts empty after the resync', async () => {
    const { proxy, url: proxiedUrl } = await startRedisProxy()
    try {
      const clock = createTestClock()
      const prefix = freshPrefix()
      const cached = open(clock, prefix, {
        url: proxiedUrl,
        cache: {},
        maxReconnectDelay: 50,
        // Off: the connection's own failure is what must be noticed.
        subscriberCheckInterval: 0,
      })
      await cached.ready()
      // Connections are numbered from 0: the command connection opened first, then the cache's subscription.
      const commandConnection = proxy.connections - 2
      const subscriberConnection = proxy.connections - 1
      const other = open(clock, prefix)
      const kept = record(clock.now())
      const revoked = record(clock.now())
      await other.set(kept)
      await other.set(revoked)
      await cached.get(kept.id)
      await cached.get(revoked.id)
      expect(cached.cache?.size).toBe(2)

      // The event connection drops and cannot come back; commands still reach Redis.
      await proxy.refuseNew()
      proxy.cutConnection(subscriberConnection)
      await expect.poll(() => cached.cache?.active, { timeout: 2_000, interval: 5 }).toBe(false)
      expect(cached.cache?.size).toBe(0)
      // A logout whose event this server never hears: it is still seen, from Redis.
      await other.delete(revoked.id, 'revoked')
      const hits = cached.cache!.hits
      expect(await cached.get(revoked.id)).toBeUndefined()
      expect(await cached.get(kept.id)).toBeDefined()
      expect(await cached.get(kept.id)).toBeDefined()
      expect(cached.cache?.hits).toBe(hits)
      expect(cached.cache?.size).toBe(0)

      // Redis unreachable as well: an error (503), never an answer from memory.
      proxy.cutConnection(commandConnection)
      await expect(cached.get(kept.id)).rejects.toBeInstanceOf(ServiceUnavailableError)

      await proxy.acceptNew()
      await expect.poll(() => cached.cache?.active, { timeout: 5_000, interval: 10 }).toBe(true)
      await expect.poll(() => cached.get(kept.id).then(() => 'answers', () => 'down'), { timeout: 3_000, interval: 20 }).toBe('answers')
      expect(await cached.get(revoked.id)).toBeUndefined()
      // And the cache serves again once delivery is proven.
      const before = cached.cache!.hits
      await expect.poll(async () => (await cached.get(kept.id), cached.cache!.hits), { timeout: 3_000, interval: 10 }).toBeGreaterThan(before)
    } finally {
      await closeStores()
      await proxy.close()
    }
  })

  it('refuses a cache option that is not an object or false', () => {
    expect(() => createRedisStore({ cache: true as unknown as false })).toThrow('cache must be an object such as { maxEntries: 10_000 }, or false; got true')
    expect(() => createRedisStore({ cache: { maxEntries: -1 } })).toThrow('cache.maxEntries must be a whole number, 1 or more; got -1')
  })
})
