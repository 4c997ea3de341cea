import { createTestClock } from '@pikku/core/testing'
import { createSessionManager, silentLogger } from '@pikku/core'
import { logInThroughStore, startBearerSocketServer } from '@pikku/framework-testkit/bearer-socket-server'
import { redisAvailable } from '@pikku/framework-testkit/test-services'
import { describe, expect, it } from 'vitest'
import { useTestRedisStores } from './redis-test-stores.test-support.js'

const available = await redisAvailable()
const { admin, freshPrefix, open } = useTestRedisStores(available)

describe.skipIf(!available)('sockets on a server with the Redis read cache', () => {
  it('answer messages on a cached session without a Redis round trip, even after another socket changed it', async () => {
    const prefix = freshPrefix()
    // The real clock: logInThroughStore stamps the session with Date.now().
    const store = open(createTestClock(), prefix, { cache: {}, clock: Date.now })
    const sessions = createSessionManager({ store, logger: silentLogger })
    const server = await startBearerSocketServer(sessions)
    const monitor = admin.duplicate()
    monitor.on('error', () => undefined)
    try {
      await store.ready()
      const { token } = await logInThroughStore(store, 'alice')
      const first = await server.connect(token)
      const second = await server.connect(token)
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
      await admin.exists(mark)
      await expect.poll(() => commands.includes('EXISTS'), { timeout: 2_000, interval: 5 }).toBe(true)
      // The rename's one script, and not a single read.
      expect(commands.filter((command) => command !== 'EXISTS')).toEqual(['EVALSHA'])
      expect(store.cache?.hits).toBeGreaterThan(0)
    } finally {
      await server.close()
      if (monitor.isOpen) monitor.destroy()
    }
  })
})
