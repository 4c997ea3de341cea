import type { RunningVariant } from '../variant.js'
import { startOnConnectRedis } from './connect-redis-store.js'
import { startFastifySession } from './fastify-session.js'

/**
 * fastify + @fastify/session over the local Redis through connect-redis, which @fastify/session's
 * README names for Redis (the same app and options as the in-memory variant).
 */
export function start(): RunningVariant {
  return startOnConnectRedis('fastify', startFastifySession)
}
