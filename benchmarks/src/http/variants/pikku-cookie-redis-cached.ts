import type { RunningVariant } from '../variant.js'
import { startPikkuOnRedis } from './pikku-redis.js'

/** Pikku cookie sessions on the local Redis (REDIS_URL) with the store's read cache. */
export function start(): RunningVariant {
  return startPikkuOnRedis({})
}
