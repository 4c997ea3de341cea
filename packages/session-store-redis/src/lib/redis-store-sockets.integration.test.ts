import { randomUUID } from 'node:crypto'
import type { TestChannelClient } from '@pikku/channel/testing'
import { createSessionManager, type SessionEvent, silentLogger } from '@pikku/core'
import { createClient } from 'redis'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisStore } from './redis-store.js'
import { logInThroughStore, startBearerSocketServer } from '@pikku/framework-testkit/bearer-socket-server'
import { startTcpFaultProxy } from '@pikku/framework-testkit/tcp-fault-proxy'
import { redisAvailable, redisUrl } from '@pikku/framework-testkit/test-services'

// Two servers share one Redis. Server A serves WebSockets and reaches Redis through a proxy that
// can cut its connections; server B logs users out. What A's sockets answer while A cannot hear
// B's revocations is the point of this file.

const available = await redisAvailable()

describe.skipIf(!available)('sockets on a server whose Redis connections are cut', () => {
  const prefix = `pikku-test:${randomUUID()}`
  const admin = createClient({ url: redisUrl })
  admin.on('error', () => undefined)

  afterAll(async () => {
    await admin.connect()
    const found: string[] = []
    for await (const batch of admin.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) found.push(...batch)
    if (found.length > 0) await admin.del(found)
    admin.destroy()
  })

  it('never answer as a user who logged out on another server meanwhile: 401 while A can still read Redis, 503 once it cannot, and live events again once the link is back', async () => {
    const target = new URL(redisUrl)
    const proxy = await startTcpFaultProxy({ host: target.hostname, port: Number(target.port || 6379) })
    const common = { keyPrefix: prefix, logger: silentLogger, connectTimeout: 500, commandTimeout: 1_000, maxReconnectDelay: 50 }
    const storeA = createRedisStore({ ...common, url: `redis://127.0.0.1:${proxy.port}${target.pathname}` })
    const storeB = createRedisStore({ ...common, url: redisUrl })
    const sessionsB = createSessionManager({ store: storeB, logger: silentLogger })
    let readsOnA = 0
    // Server A's store, counting the reads its sockets make.
    const sessionsA = createSessionManager({
      store: { ...storeA, get: (id) => (readsOnA++, storeA.get(id)) },
      logger: silentLogger,
    })
    await storeA.ready()
    const commandConnection = proxy.connections - 1
    const serverA = await startBearerSocketServer(sessionsA)
    const subscriberConnection = proxy.connections
    const seenByA: SessionEvent[] = []
    storeA.subscribe((event) => seenByA.push(event))
    await storeA.ready()
    try {
      const alice = await logInThroughStore(storeB, 'alice')
      const bob = await logInThroughStore(storeB, 'bob')
      const aliceSocket = await serverA.connect(alice.token)
      const bobSocket = await serverA.connect(bob.token)
      expect((await aliceSocket.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
      expect((await bobSocket.call('whoAmI')).result).toMatchObject({ userId: 'bob' })

      // A's event connection drops and cannot come back; its command connection still works.
      await proxy.refuseNew()
      proxy.cutConnection(subscriberConnection)
      await expect.poll(() => seenByA.some((e) => e.type === 'interrupted'), { timeout: 2_000, interval: 5 }).toBe(true)
      // Alice logs out on server B; A cannot hear it.
      expect(await sessionsB.revoke(alice.id)).toBe(true)
      const refused = await aliceSocket.call('whoAmI')
      expect(refused.result).toBeUndefined()
      expect(refused.error?.code).toBe('UNAUTHORIZED')
      expect((await aliceSocket.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
      expect((await bobSocket.call('whoAmI')).result).toMatchObject({ userId: 'bob' })

      // Now A cannot reach Redis at all: no answer can be vouched for.
      proxy.cutConnection(commandConnection)
      const unavailable = await bobSocket.call('whoAmI')
      expect(unavailable.error?.code).toBe('SERVICE_UNAVAILABLE')
      // What failed, and where, goes to the log; the caller is told only that the store is unavailable.
      expect(unavailable.error?.message).not.toMatch(new RegExp(`ECONNREFUSED|127\\.0\\.0\\.1|${proxy.port}`))
      expect((await aliceSocket.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')

      // The link comes back: the store resyncs and A's sockets trust its events again.
      await proxy.acceptNew()
      await expect.poll(() => seenByA.filter((e) => e.type === 'resync').length, { timeout: 3_000, interval: 10 }).toBeGreaterThan(0)
      await expect.poll(async () => (await bobSocket.call('whoAmI')).result, { timeout: 3_000, interval: 20 }).toMatchObject({ userId: 'bob' })
      await expect.poll(() => seenByA.at(-1)?.type, { timeout: 3_000, interval: 10 }).toBe('resync')
      await expect.poll(async () => {
        const before = readsOnA
        await bobSocket.call('whoAmI')
        return readsOnA - before
      }, { timeout: 3_000, interval: 20 }).toBe(0)
      const readsBefore = readsOnA
      for (let i = 0; i < 3; i++) expect((await bobSocket.call('whoAmI')).result).toMatchObject({ userId: 'bob' })
      expect(readsOnA).toBe(readsBefore)
      // A logout on B reaches the socket as an event again, without the socket asking.
      expect(await sessionsB.revoke(bob.id)).toBe(true)
      expect((await bobSocket.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
      expect((await aliceSocket.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    } finally {
      await serverA.close()
      await Promise.all([storeA.close(), storeB.close()])
      await proxy.close()
    }
  })
})
