import { RateLimiterRedis } from 'rate-limiter-flexible'
import { assertCounterArguments } from './memory-backend.js'
import { counterFromLimiter } from './rate-limiter-counter.js'
import type { ThrottleBackend, ThrottleCounter } from './throttle-backend.js'

/** The node-redis client (v4 or v5, single node or cluster) the app already has. */
export interface RedisThrottleClient {
  readonly isReady: boolean
  eval(...args: never[]): unknown
  multi(...args: never[]): unknown
  del(...args: never[]): unknown
}

export interface RedisThrottleBackendOptions {
  /** A node-redis client the app has connected (`createClient(...).connect()`); the app closes it. */
  client: RedisThrottleClient
  /**
   * Prefix of every key written (`<prefix>account:<hash>`, `<prefix>address:<hash>`). Give each
   * app sharing a Redis its own.
   * @default 'pikku:login-throttle:'
   */
  keyPrefix?: string
}

/**
 * Counters in Redis through rate-limiter-flexible: one key per account or address, incremented
 * by a Lua script that also sets its TTL to the window, so several servers share the counts and
 * Redis forgets them by itself. While the client is not connected, calls fail at once (and the
 * throttle answers 503) instead of waiting in node-redis's offline queue.
 */
export function createRedisThrottleBackend(options: RedisThrottleBackendOptions): ThrottleBackend {
  if (options === null || typeof options !== 'object') throw new TypeError('createRedisThrottleBackend needs { client }')
  const { client } = options
  if (client === null || typeof client !== 'object' || typeof client.eval !== 'function' || typeof client.multi !== 'function') {
    throw new TypeError('createRedisThrottleBackend needs { client }: a node-redis client (createClient from the redis package)')
  }
  // ioredis takes other arguments for the same commands; only node-redis is tested here.
  if (typeof (client as { defineCommand?: unknown }).defineCommand === 'function') {
    throw new TypeError('createRedisThrottleBackend takes a node-redis client (the redis package), not ioredis')
  }
  const keyPrefix = options.keyPrefix ?? 'pikku:login-throttle:'
  if (typeof keyPrefix !== 'string' || keyPrefix.length > 100) {
    throw new TypeError(`keyPrefix must be a string of at most 100 characters; got ${JSON.stringify(keyPrefix)}`)
  }
  return {
    counter(name: string, windowSeconds: number): ThrottleCounter {
      assertCounterArguments(name, windowSeconds)
      const limiter = new RateLimiterRedis({
        storeClient: client,
        useRedisPackage: true,
        rejectIfRedisNotReady: true,
        // rate-limiter-flexible joins its prefix and the key with ':'.
        keyPrefix: `${keyPrefix}${name}`,
        // Unused: the throttle compares counts itself; required by the constructor.
        points: 1,
        duration: windowSeconds,
      })
      return counterFromLimiter(limiter)
    },
  }
}
