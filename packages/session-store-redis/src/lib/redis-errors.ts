import { ServiceUnavailableError } from '@pikku/core'
import { ErrorReply } from 'redis'

// Error replies that mean "this server cannot serve you right now", not "your command is wrong":
// loading the dataset after a restart, a failover in progress, a cluster resharding.
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|NOREPLICAS|MISCONF)\b/

/**
 * Connection failures, timeouts and transient error replies become `ServiceUnavailableError` (a
 * 503, never "no session"); other error replies are bugs and are passed on unchanged.
 */
export function translateRedisError(error: unknown): unknown {
  if (error instanceof ErrorReply && !TRANSIENT_REPLY.test(error.message)) return error
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) return error
  const detail = error instanceof Error ? error.message : String(error)
  return new ServiceUnavailableError(`The Redis session store is unavailable (${detail}); it reconnects by itself, try again shortly`, {
    cause: error,
  })
}
