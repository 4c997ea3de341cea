import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import type { RunningVariant } from '../variant.js'
import { startFastifySession } from './fastify-session.js'
import { removeRedisKeys } from './redis-cleanup.js'

/**
 * fastify + @fastify/session over the local Redis (REDIS_URL) through connect-redis, which
 * @fastify/session's README names for Redis (the same app and options as the in-memory variant).
 */
export function start(): RunningVariant {
  const client = createClient({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' })
  const prefix = `pikku-bench-fastify:${process.pid}:`
  const running = startFastifySession(new RedisStore({ client, prefix }), async () => {
    await removeRedisKeys(client, prefix)
    client.destroy()
  })
  return {
    async listen(host) {
      await client.connect()
      return running.listen(host)
    },
    close: () => running.close(),
  }
}
