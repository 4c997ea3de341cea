import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import type { RunningVariant } from '../variant.js'

/**
 * A peer app (`start`) over connect-redis on the local Redis (REDIS_URL), as its README sets it
 * up: a connected node-redis client and a key prefix of this run's own, whose keys are deleted
 * when the variant closes instead of being left for their TTL.
 */
export function startOnConnectRedis(name: string, start: (store: RedisStore, onClose: () => Promise<void>) => RunningVariant): RunningVariant {
  const client = createClient({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' })
  const prefix = `pikku-bench-${name}:${process.pid}:`
  const running = start(new RedisStore({ client, prefix }), async () => {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (batch.length > 0) await client.del(batch)
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
