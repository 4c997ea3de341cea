import { randomUUID } from 'node:crypto'
import { type SessionEvent, ServiceUnavailableError, silentLogger } from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { describeSessionStoreConformance } from '@pikku/session-store-testkit'
import { createClient, createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisStore, type RedisStore } from './redis-store.js'
import { redisBinariesAvailable, startTestCluster, type TestCluster } from './redis-test-servers.test-support.js'
import { record, type TestSession } from './redis-test-stores.test-support.js'

// A real three-node Redis Cluster of throwaway servers: every key the store writes lands on
// whichever node owns its slot, so a command spanning two slots would fail with CROSSSLOT here.
const available = await redisBinariesAvailable('Redis Cluster tests')
const MINUTE = 60_000


describe.skipIf(!available)('Redis store on a Redis Cluster', () => {
  let cluster: TestCluster
  const stores: RedisStore<TestSession>[] = []

  // The store's default deadlines: on a machine busy with other work, a 1 s command deadline was
  // once missed by a healthy cluster. Only the dead-node test, which waits for failures, sets short ones.
  const open = (clock: TestClock, keyPrefix = `cluster-test:${randomUUID()}`, timeouts = {}): RedisStore<TestSession> => {
    const store = createRedisStore<TestSession>({ cluster: cluster.urls, keyPrefix, clock: clock.now, logger: silentLogger, maxReconnectDelay: 100, ...timeouts })
    stores.push(store)
    return store
  }
  /** Two servers sharing one key prefix; the second collects the events it hears, once subscribed. */
  const twoServers = async (clock: TestClock): Promise<{ prefix: string; serverA: RedisStore<TestSession>; seenByB: SessionEvent[] }> => {
    const prefix = `cluster-test:${randomUUID()}`
    const serverA = open(clock, prefix)
    const serverB = open(clock, prefix)
    const seenByB: SessionEvent[] = []
    serverB.subscribe((event) => seenByB.push(event))
    await serverB.ready()
    return { prefix, serverA, seenByB }
  }

  beforeAll(async () => {
    cluster = await startTestCluster()
  }, 60_000)

  afterAll(async () => {
    try {
      await Promise.all(stores.map((store) => store.close()))
    } finally {
      await cluster?.stop()
    }
  })

  describeSessionStoreConformance('Redis store (Cluster)', {
    create: (clock) => open(clock),
    destroy: async (store) => {
      await store.close?.()
    },
    eventDelay: 20,
  })

  /** The ports of the nodes that hold keys matching `pattern`. */
  const nodesHolding = async (pattern: string): Promise<Set<number>> => {
    const used = new Set<number>()
    for (const port of cluster.ports) {
      const node = createClient({ url: `redis://127.0.0.1:${port}` })
      node.on('error', () => undefined)
      await node.connect()
      try {
        for await (const keys of node.scanIterator({ MATCH: pattern })) if (keys.length > 0) used.add(port)
      } finally {
        node.destroy()
      }
    }
    return used
  }

  it('spreads one user’s sessions over several nodes and still lists and revokes them all', async () => {
    const clock = createTestClock()
    const prefix = `cluster-test:${randomUUID()}`
    const store = open(clock, prefix)
    const sessions = Array.from({ length: 30 }, () => record(clock.now()))
    for (const s of sessions) await store.set(s)
    expect((await nodesHolding(`${prefix}:s:*`)).size).toBeGreaterThan(1)
    expect(await store.listByUser('alice')).toHaveLength(30)
    expect(await store.deleteByUser('alice', { except: sessions[0]!.id })).toBe(29)
    expect((await store.listByUser('alice')).map((r) => r.id)).toEqual([sessions[0]!.id])
  })

  it('delivers a logout on one server to subscribers on another within a second', async () => {
    const clock = createTestClock()
    const { serverA, seenByB } = await twoServers(clock)
    const stored = record(clock.now())
    await serverA.set(stored)
    await serverA.delete(stored.id, 'revoked')
    await expect.poll(() => seenByB, { timeout: 1_000, interval: 5 }).toContainEqual({ type: 'deleted', id: stored.id, userId: 'alice', reason: 'revoked' })
  })

  it('tells another server of updates and touches made on any node, with the version stored', async () => {
    const clock = createTestClock()
    const { prefix, serverA, seenByB } = await twoServers(clock)
    // Enough sessions that their records, and so the scripts that publish their events, sit on
    // every node, not only on the one B's subscription is connected to.
    const sessions = Array.from({ length: 12 }, () => record(clock.now()))
    const touchedExpiry = clock.now() + 40 * MINUTE
    for (const s of sessions) {
      await serverA.set(s)
      expect(await serverA.update(s.id, 1, { data: { userId: 'alice', role: 'admin' }, lastActiveAt: clock.now(), expiresAt: s.expiresAt })).toBe('ok')
      expect(await serverA.touch(s.id, clock.now(), touchedExpiry)).toBe(true)
    }
    // B's subscription is connected to one node: with records on two or more, some events crossed
    // the cluster bus.
    expect((await nodesHolding(`${prefix}:s:*`)).size).toBeGreaterThan(1)
    await expect.poll(() => seenByB.length, { timeout: 2_000, interval: 5 }).toBe(3 * sessions.length)
    for (const s of sessions) {
      // One node publishes all events of one record, so they arrive in order.
      expect(seenByB.filter((e) => 'id' in e && e.id === s.id)).toEqual([
        { type: 'changed', id: s.id, userId: 'alice', version: 1, expiresAt: s.expiresAt },
        { type: 'changed', id: s.id, userId: 'alice', version: 2, expiresAt: s.expiresAt },
        { type: 'changed', id: s.id, userId: 'alice', version: 2, expiresAt: touchedExpiry },
      ])
    }
  })

  it('runs on a Cluster client the app already has, and leaves it open when closed', async () => {
    const clock = createTestClock()
    const appCluster = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) })
    appCluster.on('error', () => undefined)
    await appCluster.connect()
    try {
      const prefix = `cluster-test:${randomUUID()}`
      const serverA = createRedisStore<TestSession>({ client: appCluster, keyPrefix: prefix, clock: clock.now, logger: silentLogger })
      const serverB = createRedisStore<TestSession>({ client: appCluster, keyPrefix: prefix, clock: clock.now, logger: silentLogger })
      stores.push(serverA, serverB)
      const seenByB: SessionEvent[] = []
      serverB.subscribe((event) => seenByB.push(event))
      await serverB.ready()
      const sessions = Array.from({ length: 12 }, () => record(clock.now()))
      for (const s of sessions) await serverA.set(s)
      expect((await nodesHolding(`${prefix}:s:*`)).size).toBeGreaterThan(1)
      expect(await serverB.listByUser('alice')).toHaveLength(12)
      // A versioned update writes the record and its user's index, two keys in different slots.
      const changed = sessions[1]!
      expect(await serverA.update(changed.id, changed.version, { data: { ...changed.data }, lastActiveAt: clock.now(), expiresAt: changed.expiresAt + MINUTE })).toBe('ok')
      expect(await serverB.get(changed.id)).toMatchObject({ version: changed.version + 1, expiresAt: changed.expiresAt + MINUTE })
      await serverA.delete(sessions[0]!.id, 'revoked')
      await expect.poll(() => seenByB, { timeout: 2_000, interval: 5 }).toContainEqual({ type: 'deleted', id: sessions[0]!.id, userId: 'alice', reason: 'revoked' })
      await Promise.all([serverA.close(), serverB.close()])
      expect(appCluster.isOpen).toBe(true)
      expect(await appCluster.get(`${prefix}:nothing`)).toBeNull()
    } finally {
      appCluster.destroy()
    }
  })

  it('answers 503 for sessions on a dead node and serves them again, intact, once it is back', async () => {
    const clock = createTestClock()
    const store = open(clock, undefined, { connectTimeout: 500, commandTimeout: 1_000 })
    const sessions = Array.from({ length: 30 }, (_, i) => record(clock.now(), { userId: `user-${i}` }))
    for (const s of sessions) await store.set(s)
    // Several rounds: a reconnection racing a dying server is where clients get stuck.
    for (let round = 0; round < 3; round++) {
      await cluster.kill(1)
      const outcomes = await Promise.all(sessions.map((s) => store.get(s.id).then(() => 'ok', (error: unknown) => error)))
      const failures = outcomes.filter((outcome) => outcome !== 'ok')
      // Only the dead node's share fails, and it fails as "unavailable".
      expect(failures.length).toBeGreaterThan(0)
      expect(failures.length).toBeLessThan(sessions.length)
      for (const failure of failures) expect(failure).toBeInstanceOf(ServiceUnavailableError)
      await cluster.restart(1)
      await expect
        .poll(async () => (await Promise.all(sessions.map((s) => store.get(s.id).catch(() => undefined)))).filter(Boolean).length, { timeout: 10_000, interval: 100 })
        .toBe(30)
    }
    for (const s of sessions) expect(await store.get(s.id)).toEqual(s)
  }, 60_000)
})
