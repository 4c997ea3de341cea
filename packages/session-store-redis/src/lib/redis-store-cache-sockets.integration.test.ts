import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { createChannelServer, wireChannel } from '@pikku/channel'
import { connectTestClient, type TestChannelClient } from '@pikku/channel/testing'
import { createRunner, createSessionManager, noCredential, pikkuFunc, silentLogger, type UserSession } from '@pikku/core'
import { generateSessionToken, hashSessionToken } from '@pikku/core/store'
import { bearerSubprotocols, createChannelSessions } from '@pikku/middleware-channel-session'
import { createClient } from 'redis'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisStore } from './redis-store.js'
import { redisAvailable, redisUrl } from '@pikku/framework-testkit/test-services'

const available = await redisAvailable()
const MINUTE = 60_000

interface Named extends UserSession {
  name?: string
}
const whoAmI = pikkuFunc<void, UserSession>({ func: async (_services, _data, { session }) => session.get() })
const rename = pikkuFunc<{ name: string }, void>({
  func: async (_services, data, { session }) => {
    await session.update({ name: data.name } as Partial<Named>)
  },
})

describe.skipIf(!available)('sockets on a server with the Redis read cache', () => {
  const prefix = `pikku-test:${randomUUID()}`
  const admin = createClient({ url: redisUrl })
  admin.on('error', () => undefined)

  afterAll(async () => {
    if (!admin.isOpen) await admin.connect()
    const found: string[] = []
    for await (const batch of admin.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) found.push(...batch)
    if (found.length > 0) await admin.del(found)
    admin.destroy()
  })

  it('answer messages on a cached session without a Redis round trip, even after another socket changed it', async () => {
    const store = createRedisStore({ url: redisUrl, keyPrefix: prefix, logger: silentLogger, cache: {} })
    const sessions = createSessionManager({ store, logger: silentLogger })
    const channelSessions = createChannelSessions({
      sessions,
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
      channels: [wireChannel({ route: '/ws', functions: { whoAmI, rename }, session: channelSessions })],
      heartbeatInterval: 0,
    })
    const server = await channels.listen({ port: 0, host: '127.0.0.1' })
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
    const clients: TestChannelClient[] = []
    const monitor = admin.duplicate()
    monitor.on('error', () => undefined)
    try {
      await store.ready()
      const token = generateSessionToken()
      const now = Date.now()
      await store.set({ id: hashSessionToken(token), userId: 'alice', data: { userId: 'alice' }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + 30 * MINUTE })
      const first = await connectTestClient(url, { protocols: bearerSubprotocols(token) })
      const second = await connectTestClient(url, { protocols: bearerSubprotocols(token) })
      clients.push(first, second)
      expect(await first.call('whoAmI')).toMatchObject({ result: { userId: 'alice' } })

      // Every command the server sends from now on, as Redis runs it (scripts' inner commands aside).
      await monitor.connect()
      const commands: string[] = []
      await monitor.monitor((line) => {
        const match = /^\S+ \[\d+ ([^\]]+)\] "([^"]+)"(.*)$/.exec(line)
        if (match !== null && match[1] !== 'lua' && match[3]!.includes(prefix)) commands.push(match[2]!.toUpperCase())
      })
      for (let i = 0; i < 20; i++) expect(await first.call('whoAmI')).toMatchObject({ result: { userId: 'alice' } })
      // A change made through the other socket: the first socket's session is stale, and reloads
      // it from the cache the write filled.
      await second.call('rename', { name: 'Alice' })
      for (let i = 0; i < 20; i++) expect(await first.call('whoAmI')).toMatchObject({ result: { userId: 'alice', name: 'Alice' } })
      // MONITOR lags behind: a marker sent after everything else shows when it has caught up.
      const mark = `${prefix}:mark`
      await admin.connect()
      await admin.exists(mark)
      await expect.poll(() => commands.includes('EXISTS'), { timeout: 2_000, interval: 5 }).toBe(true)
      // The rename's one script, and not a single read.
      expect(commands.filter((command) => command !== 'EXISTS')).toEqual(['EVALSHA'])
      expect(store.cache?.hits).toBeGreaterThan(0)
    } finally {
      await Promise.all(clients.map((client) => client.close()))
      await channels.close({ timeout: 500 })
      channelSessions.close()
      if (monitor.isOpen) monitor.destroy()
      await store.close()
    }
  })
})
