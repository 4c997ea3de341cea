import { createClient } from 'redis'

/** Where the integration tests find Redis. */
export const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'

/**
 * Whether Redis answers at `redisUrl`. When it does not, the integration tests are skipped with a
 * printed notice, so the test command passes on a bare laptop; with `CI` set, a missing Redis is a
 * failure instead, so CI can never pass by skipping.
 */
export async function redisAvailable(): Promise<boolean> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 1_000, reconnectStrategy: false } })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
    return true
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    if (process.env['CI']) {
      throw new Error(`Redis is not reachable at ${redisUrl} (${reason}), and CI is set, so this is a failure, not a skip. Start Redis (redis-server, or .ci/run) or set REDIS_URL.`)
    }
    console.warn(
      `\n  SKIPPED: Redis integration tests. Redis is not reachable at ${redisUrl} (${reason}).\n  Start one with \`redis-server\` (or .ci/run), or point REDIS_URL at one.\n`,
    )
    return false
  } finally {
    if (client.isOpen) client.destroy()
  }
}
