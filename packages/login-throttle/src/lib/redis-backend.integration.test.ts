import { randomBytes } from 'node:crypto'
import { createRunner, pikkuSessionlessFunc, silentLogger, UnauthorizedError, type PikkuWire } from '@pikku/core'
import { SessionState } from '@pikku/core/protocol'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLoginThrottle } from './login-throttle.js'
import { createRedisThrottleBackend } from './redis-backend.js'
import { describeThrottleBackend } from './throttle-backend-conformance.test-support.js'
import { redisAvailable, redisUrl } from '@pikku/framework-testkit/test-services'

const available = await redisAvailable()

type RedisClient = ReturnType<typeof createClient>

/** A client and a key prefix of this test's own; `cleanup` deletes every key under the prefix. */
async function privateRedis(): Promise<{ client: RedisClient; keyPrefix: string; cleanup: () => Promise<void> }> {
  const client = createClient({ url: redisUrl })
  client.on('error', () => undefined)
  await client.connect()
  const keyPrefix = `pikku-test:login-throttle:${randomBytes(6).toString('hex')}:`
  return {
    client,
    keyPrefix,
    cleanup: async () => {
      for await (const keys of client.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 100 })) {
        if (keys.length > 0) await client.del(keys)
      }
      client.destroy()
    },
  }
}

describe.skipIf(!available)('Redis', () => {
  describeThrottleBackend('Redis', {
    movableClock: false,
    setup: async () => {
      const redis = await privateRedis()
      return { backend: createRedisThrottleBackend({ client: redis.client, keyPrefix: redis.keyPrefix }), cleanup: redis.cleanup }
    },
  })

  describe('Redis throttle backend', () => {
    let redis: Awaited<ReturnType<typeof privateRedis>>
    beforeAll(async () => {
      redis = await privateRedis()
    })
    afterAll(async () => {
      await redis.cleanup()
    })

    it('keeps each count in one key under the prefix, which Redis expires when the window ends', async () => {
      const counter = createRedisThrottleBackend({ client: redis.client, keyPrefix: redis.keyPrefix }).counter('account', 900)
      const hit = await counter.hit('alice')
      const key = `${redis.keyPrefix}account:alice`
      expect(await redis.client.get(key)).toBe('1')
      const ttl = await redis.client.pTTL(key)
      expect(ttl).toBeGreaterThan(895_000)
      expect(ttl).toBeLessThanOrEqual(900_000)
      expect(Math.abs(hit.resetsInMs - ttl)).toBeLessThan(5_000)
    })

    it('two servers with one Redis share the counts: five failures on one lock the account on the other', async () => {
      const login = pikkuSessionlessFunc<{ email: string; password: string }, string>({
        name: 'login',
        func: (_services, data) => {
          if (data.password !== 'right') throw new UnauthorizedError('Invalid credentials')
          return 'ok'
        },
      })
      const serverA = createLoginThrottle({ accountKey: (data: { email: string; password: string }) => data.email, backend: createRedisThrottleBackend({ client: redis.client, keyPrefix: redis.keyPrefix }) })
      const other = await privateRedis()
      try {
        const serverB = createLoginThrottle({ accountKey: (data: { email: string; password: string }) => data.email, backend: createRedisThrottleBackend({ client: other.client, keyPrefix: redis.keyPrefix }) })
        const runner = createRunner({ services: {}, logger: silentLogger })
        const wire = (): PikkuWire => ({ protocol: 'http', session: new SessionState() })
        const onA = serverA.protect(login)
        for (let attempt = 0; attempt < 5; attempt++) {
          await expect(runner.run(onA, { email: 'shared@example.com', password: 'wrong' }, wire())).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
        }
        await expect(runner.run(serverB.protect(login), { email: 'shared@example.com', password: 'right' }, wire())).rejects.toMatchObject({
          code: 'TOO_MANY_REQUESTS',
          retryAfter: expect.any(Number),
        })
      } finally {
        other.client.destroy()
      }
    })

    it('a client that is not connected fails at once instead of queueing the login', async () => {
      const idle = createClient({ url: redisUrl })
      const counter = createRedisThrottleBackend({ client: idle, keyPrefix: redis.keyPrefix }).counter('account', 60)
      const started = Date.now()
      await expect(counter.hit('alice')).rejects.toThrow('Redis connection is not ready')
      expect(Date.now() - started).toBeLessThan(1_000)
    })

    it('refuses a client that is not node-redis, saying what it needs', () => {
      expect(() => createRedisThrottleBackend({ client: {} as never })).toThrow('createRedisThrottleBackend needs { client }: a node-redis client')
      const ioredisLike = { isReady: true, eval: () => 0, multi: () => 0, del: () => 0, defineCommand: () => 0 }
      expect(() => createRedisThrottleBackend({ client: ioredisLike })).toThrow('takes a node-redis client (the redis package), not ioredis')
    })
  })
})
