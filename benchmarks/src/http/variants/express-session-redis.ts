import type { RunningVariant } from '../variant.js'
import { startOnConnectRedis } from './connect-redis-store.js'
import { startExpressSession } from './express-session.js'

/**
 * express-session over the local Redis through connect-redis, with express-session's
 * `resave: false` and `saveUninitialized: false` (the same app and options as the MemoryStore variant).
 */
export function start(): RunningVariant {
  return startOnConnectRedis('express', startExpressSession)
}
