import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import type { RunningVariant } from '../variant.js'
import { startExpressSession } from './express-session.js'
import { removeRedisKeys } from './redis-cleanup.js'

/**
 * express-session over the local Redis (REDIS_URL) through connect-redis, as its README sets it up:
 * a connected node-redis client, a key prefix, express-session's `resave: false` and
 * `saveUninitialized: false` (the same app and options as the MemoryStore variant).
 */
export function start(): RunningVariant {
  const client = createClient({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' })
  const prefix = `pikku-bench-express:${process.pid}:`
  const running = startExpressSession(new RedisStore({ client, prefix }), async () => {
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
