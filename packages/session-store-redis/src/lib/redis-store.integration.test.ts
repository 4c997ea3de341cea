import { randomUUID } from 'node:crypto'
import { type SessionEvent, ServiceUnavailableError, silentLogger } from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { describeSessionStoreConformance } from '@pikku/session-store-testkit'
import { describe, expect, it } from 'vitest'
import { createRedisStore, type RedisStore } from './redis-store.js'
import { redisAvailable, redisUrl } from '@pikku/framework-testkit/test-services'
import { MINUTE, record, startRedisProxy, type TestSession, useTestRedisStores } from './redis-test-stores.test-support.js'

const available = await redisAvailable()
const { admin, closeStores, freshPrefix, open, track } = useTestRedisStores(available)

/** Two servers sharing one key prefix; the second collects the events it hears, once subscribed. */
async function twoServers(clock: TestClock): Promise<{ serverA: RedisStore<TestSession>; serverB: RedisStore<TestSession>; seenByB: SessionEvent[] }> {
  const prefix = freshPrefix()
  const serverA = open(clock, prefix)
  const serverB = open(clock, prefix)
  const seenByB: SessionEvent[] = []
  serverB.subscribe((event) => seenByB.push(event))
  await serverB.ready()
  return { serverA, serverB, seenByB }
}

/** The events that open and close a gap in delivery, in the order they came. */
function gaps(events: readonly SessionEvent[]): SessionEvent[] {
  return events.filter((e) => e.type === 'interrupted' || e.type === 'resync')
}

describe.skipIf(!available)('Redis store against a real server', () => {
  describeSessionStoreConformance('Redis store', {
    create: (clock) => open(clock),
    destroy: async (store) => {
      await store.close?.()
    },
    eventDelay: 20,
  })

  it('expires records through Redis TTLs that follow the store clock', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const store = open(clock, prefix)
    const stored = record(clock.now(), { expiresAt: clock.now() + 10 * MINUTE })
    await store.set(stored)
    const ttl = await admin.pTTL(`${prefix}:s:{${stored.id}}`)
    expect(ttl).toBeGreaterThan(10 * MINUTE - 5_000)
    expect(ttl).toBeLessThanOrEqual(10 * MINUTE)
    clock.advance(5 * MINUTE)
    await store.touch(stored.id, clock.now(), clock.now() + 30 * MINUTE)
    expect(await admin.pTTL(`${prefix}:s:{${stored.id}}`)).toBeGreaterThan(29 * MINUTE)
  })

  it('never keeps stale members in the per-user index: trims them and expires the index itself', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const store = open(clock, prefix)
    const indexKey = `${prefix}:u:{alice}`
    const short = Array.from({ length: 5 }, () => record(clock.now(), { expiresAt: clock.now() + MINUTE }))
    const long = record(clock.now(), { expiresAt: clock.now() + 60 * MINUTE })
    for (const r of [...short, long]) await store.set(r)
    expect(await admin.zCard(indexKey)).toBe(6)
    // The index lives exactly as long as its newest session.
    expect(await admin.pTTL(indexKey)).toBeGreaterThan(59 * MINUTE)
    clock.advance(2 * MINUTE)
    expect((await store.listByUser('alice')).map((r) => r.id)).toEqual([long.id])
    expect(await admin.zRange(indexKey, 0, -1)).toEqual([long.id])
    // A member whose record vanished (deleted by hand, or lost) is dropped on the next read.
    await admin.del(`${prefix}:s:{${long.id}}`)
    expect(await store.listByUser('alice')).toEqual([])
    expect(await admin.exists(indexKey)).toBe(0)
  })

  it('moves a session id stored again for another user out of the first user index', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const store = open(clock, prefix)
    const events: SessionEvent[] = []
    store.subscribe((event) => events.push(event))
    const first = record(clock.now(), { userId: 'alice' })
    await store.set(first)
    await store.set({ ...first, userId: 'bob', data: { userId: 'bob' } })
    expect(await store.listByUser('alice')).toEqual([])
    expect((await store.listByUser('bob')).map((r) => r.id)).toEqual([first.id])
    expect(await admin.exists(`${prefix}:u:{alice}`)).toBe(0)
    expect(events).toContainEqual({ type: 'deleted', id: first.id, userId: 'alice', reason: 'cleared' })
  })

  it('tells another server that a session id stored again for another user left its first owner before it changed', async () => {
    const clock = createTestClock()
    const { serverA, seenByB } = await twoServers(clock)
    const first = record(clock.now(), { userId: 'alice' })
    await serverA.set(first)
    await serverA.set({ ...first, userId: 'bob', data: { userId: 'bob' } })
    await expect.poll(() => seenByB.length, { timeout: 1_000, interval: 5 }).toBe(3)
    expect(seenByB).toEqual([
      { type: 'changed', id: first.id, userId: 'alice', version: 1, expiresAt: first.expiresAt },
      { type: 'deleted', id: first.id, userId: 'alice', reason: 'cleared' },
      { type: 'changed', id: first.id, userId: 'bob', version: 1, expiresAt: first.expiresAt },
    ])
  })

  it('refuses an update that changes the owner', async () => {
    const clock = createTestClock()
    const store = open(clock)
    const stored = record(clock.now())
    await store.set(stored)
    await expect(store.update(stored.id, 1, { data: { userId: 'mallory' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).rejects.toThrow(
      /cannot change userId/,
    )
    expect((await store.get(stored.id))?.userId).toBe('alice')
  })

  it('delivers a logout on one server to subscribers on another within a second', async () => {
    const clock = createTestClock()
    const { serverA, serverB, seenByB } = await twoServers(clock)
    const stored = record(clock.now())
    await serverA.set(stored)
    const started = Date.now()
    await serverA.delete(stored.id, 'cleared')
    await expect
      .poll(() => seenByB, { timeout: 1_000, interval: 5 })
      .toContainEqual({ type: 'deleted', id: stored.id, userId: 'alice', reason: 'cleared' })
    expect(Date.now() - started).toBeLessThan(1_000)
    // B sees A's writes as well as its events.
    expect(await serverB.get(stored.id)).toBeUndefined()
    // Each event arrives once: a server does not hear its own events back from Redis.
    const seenByA: SessionEvent[] = []
    serverA.subscribe((event) => seenByA.push(event))
    await serverA.ready()
    const other = record(clock.now(), { userId: 'bob' })
    await serverA.set(other)
    await serverA.deleteByUser('bob')
    await expect.poll(() => seenByB.filter((e) => 'id' in e && e.id === other.id), { timeout: 1_000, interval: 5 }).toHaveLength(2)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(seenByA.filter((e) => 'id' in e && e.id === other.id)).toEqual([
      { type: 'changed', id: other.id, userId: 'bob', version: 1, expiresAt: other.expiresAt },
      { type: 'deleted', id: other.id, userId: 'bob', reason: 'revoked' },
    ])
  })

  it('tells another server of each change made by set, update and touch, with the version stored', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const serverA = open(clock, prefix)
    const serverB = open(clock, prefix)
    const seenByA: SessionEvent[] = []
    const seenByB: SessionEvent[] = []
    serverA.subscribe((event) => seenByA.push(event))
    serverB.subscribe((event) => seenByB.push(event))
    await serverA.ready()
    await serverB.ready()
    const stored = record(clock.now())
    await serverA.set(stored)
    clock.advance(MINUTE)
    const updatedExpiry = clock.now() + 30 * MINUTE
    expect(await serverA.update(stored.id, 1, { data: { userId: 'alice', role: 'admin' }, lastActiveAt: clock.now(), expiresAt: updatedExpiry })).toBe('ok')
    // A stale version writes nothing, so it announces nothing either.
    expect(await serverA.update(stored.id, 1, { data: { userId: 'alice' }, lastActiveAt: clock.now(), expiresAt: updatedExpiry + MINUTE })).toBe('conflict')
    clock.advance(MINUTE)
    const touchedExpiry = clock.now() + 30 * MINUTE
    expect(await serverA.touch(stored.id, clock.now(), touchedExpiry)).toBe(true)
    expect(await serverA.touch(record(clock.now()).id, clock.now(), touchedExpiry)).toBe(false)
    // The delete is published by the client, after the scripts' events: once B has it, B has them all.
    await serverA.delete(stored.id, 'cleared')
    const expected: SessionEvent[] = [
      { type: 'changed', id: stored.id, userId: 'alice', version: 1, expiresAt: stored.expiresAt },
      { type: 'changed', id: stored.id, userId: 'alice', version: 2, expiresAt: updatedExpiry },
      { type: 'changed', id: stored.id, userId: 'alice', version: 2, expiresAt: touchedExpiry },
      { type: 'deleted', id: stored.id, userId: 'alice', reason: 'cleared' },
    ]
    await expect.poll(() => seenByB.length, { timeout: 1_000, interval: 5 }).toBe(expected.length)
    expect(seenByB).toEqual(expected)
    // The writing server's own listeners hear the same events once, directly.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(seenByA).toEqual(expected)
  })

  it('sends 2 commands for a set, 1 for an update (index, record and event in one script) and 3 for a touch', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    // Nobody subscribes, so no heartbeat or SUBSCRIBE mixes into what is counted.
    const store = open(clock, prefix)
    const monitor = admin.duplicate()
    monitor.on('error', () => undefined)
    await monitor.connect()
    try {
      // MONITOR shows every command in the order the server runs it, those inside scripts marked
      // `[<db> lua]`; only lines naming this test's prefix concern this store.
      const lines: string[] = []
      await monitor.monitor((line) => {
        if (line.includes(prefix)) lines.push(line)
      })
      let marks = 0
      // A command sent on another connection: once MONITOR shows it, it has shown everything sent
      // before it (MONITOR's stream lags behind the commands it reports).
      const seenMark = async (): Promise<number> => {
        const mark = `${prefix}:mark:${++marks}`
        await admin.echo(mark)
        await expect.poll(() => lines.some((line) => line.includes(mark)), { timeout: 2_000, interval: 5 }).toBe(true)
        return lines.findIndex((line) => line.includes(mark))
      }
      const sentDuring = async (operation: () => Promise<unknown>): Promise<{ byStore: string[]; inScripts: string[] }> => {
        // Marks on both sides, so that lines of an earlier operation still in flight are not counted.
        const from = await seenMark()
        await operation()
        const to = await seenMark()
        const commands = lines
          .slice(from + 1, to)
          .map((line) => /^\S+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line))
          .map((match) => ({ client: match?.[1], command: match?.[2]?.toUpperCase() }))
        return {
          byStore: commands.filter((c) => c.client !== 'lua').map((c) => c.command ?? '?'),
          inScripts: commands.filter((c) => c.client === 'lua').map((c) => c.command ?? '?'),
        }
      }
      // The first call of each script after a Redis restart needs EVAL once (NOSCRIPT): not counted.
      const warm = record(clock.now())
      await store.set(warm)
      await store.update(warm.id, 1, { data: { userId: 'alice' }, lastActiveAt: clock.now(), expiresAt: warm.expiresAt })
      await store.touch(warm.id, clock.now(), warm.expiresAt)

      const stored = record(clock.now())
      const set = await sentDuring(() => store.set(stored))
      expect(set.byStore).toEqual(['EVALSHA', 'EVALSHA'])
      expect(set.inScripts.filter((c) => c === 'PUBLISH')).toHaveLength(1)

      const update = await sentDuring(() => store.update(stored.id, 1, { data: { userId: 'alice', n: 1 }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt + MINUTE }))
      expect(update.byStore).toEqual(['EVALSHA'])
      // The index entry is extended before the record is written, and the event published after it.
      expect(update.inScripts[0]).toBe('HMGET')
      expect(update.inScripts[1]).toBe('ZADD')
      expect(update.inScripts.slice(-3)).toEqual(['HSET', 'PEXPIRE', 'PUBLISH'])
      expect(await admin.zScore(`${prefix}:u:{alice}`, stored.id)).toBe(stored.expiresAt + MINUTE)

      const conflict = await sentDuring(() => store.update(stored.id, 1, { data: { userId: 'alice', n: 2 }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt }))
      expect(conflict.byStore).toEqual(['EVALSHA'])
      // Nothing written, the index included, and nothing published.
      expect(conflict.inScripts).toEqual(['HMGET'])

      const touch = await sentDuring(() => store.touch(stored.id, clock.now(), stored.expiresAt + MINUTE))
      expect(touch.byStore).toEqual(['HGET', 'EVALSHA', 'EVALSHA'])
      expect(touch.inScripts.slice(-3)).toEqual(['HSET', 'PEXPIRE', 'PUBLISH'])
    } finally {
      monitor.destroy()
    }
  })

  it('keeps a write that Redis applied when it refuses the event PUBLISH (an ACL user without channel rights), and warns', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const username = `pikku-test-${randomUUID()}`
    const password = randomUUID()
    // Redis 7 gives a new ACL user no channel rights (acl-pubsub-default resetchannels).
    await admin.sendCommand(['ACL', 'SETUSER', username, 'on', `>${password}`, `~${prefix}:*`, 'resetchannels', '+@all'])
    try {
      const url = new URL(redisUrl)
      url.username = username
      url.password = password
      const warnings: string[] = []
      const logger = { ...silentLogger, warn: (message: string) => warnings.push(message) }
      const store = createRedisStore<TestSession>({ url: url.toString(), keyPrefix: prefix, clock: clock.now, logger })
      track(store)
      const events: SessionEvent[] = []
      store.subscribe((event) => events.push(event))
      const stored = record(clock.now())
      await store.set(stored)
      expect(await store.update(stored.id, 1, { data: { userId: 'alice', role: 'admin' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).toBe('ok')
      expect(await store.touch(stored.id, clock.now(), stored.expiresAt + MINUTE)).toBe(true)
      expect(await store.get(stored.id)).toEqual({ ...stored, data: { userId: 'alice', role: 'admin' }, version: 2, expiresAt: stored.expiresAt + MINUTE })
      expect(warnings).toEqual(Array.from({ length: 3 }, () => 'Redis session store: could not publish a session event'))
      // This server's own listeners still hear its changes.
      expect(events.filter((e) => e.type === 'changed').map((e) => e.type === 'changed' && e.version)).toEqual([1, 2, 2])
    } finally {
      await admin.sendCommand(['ACL', 'DELUSER', username])
    }
  })

  it('notices a subscription that silently stopped delivering and opens a new one', async () => {
    const { proxy, url: proxiedUrl } = await startRedisProxy()
    try {
      const clock = createTestClock()
      const prefix = freshPrefix()
      const proxied = createRedisStore<TestSession>({
        url: proxiedUrl,
        keyPrefix: prefix,
        clock: clock.now,
        logger: silentLogger,
        subscriberCheckInterval: 100,
      })
      track(proxied)
      await proxied.ready()
      const commandConnections = proxy.connections
      const seen: SessionEvent[] = []
      proxied.subscribe((event) => seen.push(event))
      await proxied.ready()
      // The subscriber's socket stays open but nothing passes any more: no error, no close.
      proxy.stallConnection(commandConnections)
      const other = open(clock, prefix)
      await expect
        .poll(
          async () => {
            const probe = record(clock.now())
            await other.set(probe)
            await other.delete(probe.id, 'revoked')
            await new Promise((resolve) => setTimeout(resolve, 20))
            return seen.some((e) => e.type === 'deleted' && e.id === probe.id)
          },
          { timeout: 3_000, interval: 20 },
        )
        .toBe(true)
      expect(proxy.connections).toBeGreaterThan(commandConnections + 1)
      // Whatever was published while it was silent is gone: subscribers were told when the
      // heartbeat found it silent, and to re-check once the new subscription delivered.
      expect(gaps(seen)).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
    } finally {
      await closeStores()
      await proxy.close()
    }
  })

  it('tells subscribers to resync once its dropped event connection is subscribed again', async () => {
    const { proxy, url: proxiedUrl } = await startRedisProxy()
    try {
      const clock = createTestClock()
      const prefix = freshPrefix()
      const proxied = createRedisStore<TestSession>({
        url: proxiedUrl,
        keyPrefix: prefix,
        clock: clock.now,
        logger: silentLogger,
        maxReconnectDelay: 50,
        // Off, so that only node-redis's own reconnection brings the subscription back.
        subscriberCheckInterval: 0,
      })
      track(proxied)
      await proxied.ready()
      const commandConnections = proxy.connections
      const seen: SessionEvent[] = []
      proxied.subscribe((event) => seen.push(event))
      await proxied.ready()
      const other = open(clock, prefix)
      const first = record(clock.now())
      await other.set(first)
      await expect.poll(() => seen.length, { timeout: 1_000, interval: 5 }).toBe(1)
      // The first subscription is not a resync.
      expect(seen).toEqual([expect.objectContaining({ type: 'changed', id: first.id })])

      // Only the subscriber's connection drops; the command connection stays up.
      proxy.cutConnection(commandConnections)
      const missed = record(clock.now())
      await other.set(missed)
      await other.delete(missed.id, 'revoked')
      await expect.poll(() => gaps(seen), { timeout: 3_000, interval: 10 }).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
      expect(proxy.connections).toBe(commandConnections + 2)

      // Subscribed again before the resync was sent: a revocation made now arrives.
      const after = record(clock.now())
      await other.set(after)
      await other.delete(after.id, 'revoked')
      await expect.poll(() => seen.some((e) => e.type === 'deleted' && e.id === after.id), { timeout: 1_000, interval: 5 }).toBe(true)
      expect(gaps(seen)).toHaveLength(2)
    } finally {
      await closeStores()
      await proxy.close()
    }
  })

  it('tells subscribers their events are interrupted as soon as its event connection drops, and resyncs only once it is subscribed again', async () => {
    const { proxy, url: proxiedUrl } = await startRedisProxy()
    try {
      const clock = createTestClock()
      const prefix = freshPrefix()
      const proxied = createRedisStore<TestSession>({
        url: proxiedUrl,
        keyPrefix: prefix,
        clock: clock.now,
        logger: silentLogger,
        maxReconnectDelay: 50,
        // Off: the connection's own failure is what must be noticed.
        subscriberCheckInterval: 0,
      })
      track(proxied)
      await proxied.ready()
      const subscriberConnection = proxy.connections
      const seen: SessionEvent[] = []
      proxied.subscribe((event) => seen.push(event))
      await proxied.ready()
      const other = open(clock, prefix)

      // The subscriber's connection drops and cannot come back; the command connection stays up.
      await proxy.refuseNew()
      proxy.cutConnection(subscriberConnection)
      await expect.poll(() => gaps(seen), { timeout: 2_000, interval: 5 }).toEqual([{ type: 'interrupted' }])
      const missed = record(clock.now())
      await other.set(missed)
      await other.delete(missed.id, 'revoked')
      // The store itself still answers; the gap stays open as long as the subscription is down.
      expect(await proxied.get(missed.id)).toBeUndefined()
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(gaps(seen)).toEqual([{ type: 'interrupted' }])
      expect(seen.some((e) => e.type === 'deleted' && e.id === missed.id)).toBe(false)

      // A listener that subscribes during the gap learns of it at once.
      const late: SessionEvent[] = []
      proxied.subscribe((event) => late.push(event))
      expect(late).toEqual([{ type: 'interrupted' }])

      await proxy.acceptNew()
      await expect.poll(() => gaps(seen), { timeout: 3_000, interval: 10 }).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
      expect(gaps(late)).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
    } finally {
      await closeStores()
      await proxy.close()
    }
  })

  it('tells subscribers their events are interrupted when its command connection fails, and resyncs once a heartbeat gets through again', async () => {
    const { proxy, url: proxiedUrl } = await startRedisProxy()
    try {
      const clock = createTestClock()
      const prefix = freshPrefix()
      const proxied = createRedisStore<TestSession>({
        url: proxiedUrl,
        keyPrefix: prefix,
        clock: clock.now,
        logger: silentLogger,
        maxReconnectDelay: 50,
        // Long enough that only the store's own probe after recovering can end the gap in time.
        subscriberCheckInterval: 60_000,
      })
      track(proxied)
      await proxied.ready()
      const commandConnection = proxy.connections - 1
      const seen: SessionEvent[] = []
      proxied.subscribe((event) => seen.push(event))
      await proxied.ready()
      const other = open(clock, prefix)
      const stored = record(clock.now())
      await other.set(stored)

      // Redis is unreachable for commands: the subscriber's idle socket would be the last to know.
      await proxy.refuseNew()
      proxy.cutConnection(commandConnection)
      await expect.poll(() => gaps(seen), { timeout: 2_000, interval: 5 }).toEqual([{ type: 'interrupted' }])
      await expect(proxied.get(stored.id)).rejects.toBeInstanceOf(ServiceUnavailableError)
      // Events that still arrive are delivered; the gap stays open all the same.
      await other.delete(stored.id, 'revoked')
      await expect.poll(() => seen.some((e) => e.type === 'deleted' && e.id === stored.id), { timeout: 1_000, interval: 5 }).toBe(true)
      expect(gaps(seen)).toEqual([{ type: 'interrupted' }])

      await proxy.acceptNew()
      await expect.poll(() => proxied.get(stored.id).then(() => 'answers', () => 'down'), { timeout: 3_000, interval: 20 }).toBe('answers')
      await expect.poll(() => gaps(seen), { timeout: 2_000, interval: 5 }).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
    } finally {
      await closeStores()
      await proxy.close()
    }
  })

  it('ignores malformed messages on its event channel', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const store = open(clock, prefix)
    const events: SessionEvent[] = []
    store.subscribe((event) => events.push(event))
    await store.ready()
    await admin.publish(`${prefix}:events`, 'not json')
    await admin.publish(`${prefix}:events`, JSON.stringify({ origin: 'x', event: { type: 'bogus' } }))
    await admin.publish(`${prefix}:events`, JSON.stringify({ origin: 'x', event: { type: 'deleted', id: 'i', userId: 'u', reason: 'revoked' } }))
    await expect.poll(() => events, { timeout: 1_000, interval: 5 }).toHaveLength(1)
  })
})
