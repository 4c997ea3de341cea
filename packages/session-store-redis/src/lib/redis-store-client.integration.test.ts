import { randomUUID } from 'node:crypto'
import { type CoreUserSession, type SessionEvent, type SessionRecord, silentLogger } from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { generateSessionToken, hashSessionToken } from '@pikku/core/store'
import { describeSessionStoreConformance } from '@pikku/session-store-testkit'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createRedisStore, type RedisStore } from './redis-store.js'
import { redisAvailable, redisUrl } from '@pikku/framework-testkit/test-services'

type TestSession = CoreUserSession & Record<string, unknown>
const available = await redisAvailable()

// The app's client selects a database of its own: the store must use the client as configured,
// and this file's keys stay out of every other test's way (and are deleted after each test).
const DATABASE = 7
const clientName = `pikku-test-app-client-${randomUUID().slice(0, 8)}`
const appClient = createClient({ url: redisUrl, database: DATABASE, name: clientName })
appClient.on('error', () => undefined)
const prefixes: string[] = []
const opened: RedisStore<TestSession>[] = []

function freshPrefix(): string {
  const prefix = `pikku-test:${randomUUID()}`
  prefixes.push(prefix)
  return prefix
}

function open(clock: TestClock, keyPrefix = freshPrefix()): RedisStore<TestSession> {
  const store = createRedisStore<TestSession>({ client: appClient, keyPrefix, clock: clock.now, logger: silentLogger, commandTimeout: 2_000 })
  opened.push(store)
  return store
}

function record(now: number): SessionRecord<TestSession> {
  return { id: hashSessionToken(generateSessionToken()), userId: 'alice', data: { userId: 'alice' }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + 60_000 }
}

/** This file's connections, as Redis lists them (the app's client and the stores' subscriptions share its name). */
async function connectionsNamed(): Promise<number> {
  const list = await appClient.clientList()
  return list.filter((entry) => entry.name === clientName).length
}

describe.skipIf(!available)('Redis store on a client the app already has', () => {
  beforeAll(async () => {
    await appClient.connect()
  })

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()))
    for (const prefix of prefixes.splice(0)) {
      for await (const batch of appClient.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) if (batch.length > 0) await appClient.del(batch)
    }
  })

  afterAll(async () => {
    if (appClient.isOpen) appClient.destroy()
  })

  describeSessionStoreConformance('Redis store on the app client', {
    create: (clock) => open(clock),
    destroy: async (store) => {
      await store.close?.()
    },
    eventDelay: 20,
  })

  it('writes through the app client, so its options (here its database) apply', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const store = open(clock, prefix)
    const stored = record(clock.now())
    await store.set(stored)
    expect(await appClient.exists(`${prefix}:s:{${stored.id}}`)).toBe(1)
    const otherDatabase = createClient({ url: redisUrl, database: 0 })
    otherDatabase.on('error', () => undefined)
    await otherDatabase.connect()
    try {
      expect(await otherDatabase.exists(`${prefix}:s:{${stored.id}}`)).toBe(0)
    } finally {
      otherDatabase.destroy()
    }
  })

  it('closes only the subscription connection it opened, and leaves the app client open and working', async () => {
    const clock = createTestClock()
    const store = open(clock)
    store.subscribe(() => undefined)
    await store.ready()
    // The app's client plus the store's own copy of it for pub/sub.
    expect(await connectionsNamed()).toBe(2)
    await store.close()
    expect(appClient.isOpen).toBe(true)
    expect(await appClient.ping()).toBe('PONG')
    await expect.poll(connectionsNamed, { timeout: 2_000, interval: 20 }).toBe(1)
  })

  it('delivers a logout between two stores built on the same app client', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const serverA = open(clock, prefix)
    const serverB = open(clock, prefix)
    const seenByB: SessionEvent[] = []
    serverB.subscribe((event) => seenByB.push(event))
    await serverB.ready()
    const stored = record(clock.now())
    await serverA.set(stored)
    await serverA.delete(stored.id, 'cleared')
    await expect
      .poll(() => seenByB, { timeout: 1_000, interval: 5 })
      .toContainEqual({ type: 'deleted', id: stored.id, userId: 'alice', reason: 'cleared' })
  })

  it('refuses a client that was never connected, saying what to do', () => {
    const idle = createClient({ url: redisUrl })
    expect(() => createRedisStore({ client: idle })).toThrow(/client is not connected: call client.connect\(\) before createRedisStore/)
  })
})
