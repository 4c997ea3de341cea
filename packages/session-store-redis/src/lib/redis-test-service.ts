import { testServiceAvailable } from '@pikku/core/testing'
import { createClient } from 'redis'

/** Where the integration tests find Redis. */
export const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'

/** Whether Redis answers at `redisUrl` (skip locally, fail under CI: core's test-service policy). */
export function redisAvailable(): Promise<boolean> {
  return testServiceAvailable({
    name: 'Redis',
    where: redisUrl,
    hint: 'start one with `redis-server` (or .ci/run), or point REDIS_URL at one',
    probe: async () => {
      const client = createClient({ url: redisUrl, socket: { connectTimeout: 1_000, reconnectStrategy: false } })
      client.on('error', () => undefined)
      try {
        await client.connect()
        await client.ping()
      } finally {
        if (client.isOpen) client.destroy()
      }
    },
  })
}
