import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { createChannelServer, wireChannel } from '@pikku/channel'
import { connectTestClient, type TestChannelClient } from '@pikku/channel/testing'
import {
  createRunner,
  createSessionManager,
  noCredential,
  pikkuFunc,
  type SessionEvent,
  type SessionManager,
  silentLogger,
  type UserSession,
} from '@pikku/core'
import { generateSessionToken, hashSessionToken } from '@pikku/core/store'
import { bearerSubprotocols, createChannelSessions } from '@pikku/middleware-channel-session'
import { createClient } from 'redis'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisStore, type RedisStore } from './redis-store.js'
import { startTcpFaultProxy } from '@pikku/framework-testkit/tcp-fault-proxy'
import { redisAvailable, redisUrl } from '@pikku/framework-testkit/test-services'

// Two servers share one Redis. Server A serves WebSockets and reaches Redis through a proxy that
// can cut its connections; server B logs users out. What A's sockets answer while A cannot hear
// B's revocations is the point of this file.

const available = await redisAvailable()
const MINUTE = 60_000

const whoAmI = pikkuFunc<void, UserSession>({ func: async (_services, _data, { session }) => session.get() })

/** Server A's sockets: sessions from the store by bearer token, one function that says who the caller is. */
async function startSocketServer(sessions: SessionManager): Promise<{ connect(token: string): Promise<TestChannelClient>; close(): Promise<void> }> {
  const channelSessions = createChannelSessions({
    sessions,
    // Bearer tokens naming stored sessions, offered as the subprotocol token.
    authenticator: {
      async authenticate(input) {
        if (input.token === undefined) return noCredential()
        const record = await sessions.loadByToken(input.token)
        return record === undefined ? { outcome: 'refused', credential: 'bearer', reason: 'unknown-session' } : { outcome: 'stored', credential: 'bearer', record }
      },
    },
  })
  const channels = createChannelServer({
    runner: createRunner({ services: {}, logger: silentLogger }),
    channels: [wireChannel({ route: '/ws', functions: { whoAmI }, session: channelSessions })],
    heartbeatInterval: 0,
  })
  const server = await channels.listen({ port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
  const clients: TestChannelClient[] = []
  return {
    async connect(token) {
      const client = await connectTestClient(url, { protocols: bearerSubprotocols(token) })
      clients.push(client)
      return client
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()))
      await channels.close({ timeout: 500 })
      channelSessions.close()
    },
  }
}

/** Logs `userId` in through server B's store; returns the token a client would hold. */
async function logIn(store: RedisStore, userId: string): Promise<{ token: string; id: string }> {
  const token = generateSessionToken()
  const id = hashSessionToken(token)
  const now = Date.now()
  await store.set({ id, userId, data: { userId }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + 30 * MINUTE })
  return { token, id }
}

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
    const serverA = await startSocketServer(sessionsA)
    const subscriberConnection = proxy.connections
    const seenByA: SessionEvent[] = []
    storeA.subscribe((event) => seenByA.push(event))
    await storeA.ready()
    try {
      const alice = await logIn(storeB, 'alice')
      const bob = await logIn(storeB, 'bob')
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
