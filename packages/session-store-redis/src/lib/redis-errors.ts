import { ServiceUnavailableError } from '@pikku/core'
import { ErrorReply } from 'redis'

// Error replies that mean "this server cannot serve you right now", not "your command is wrong":
// loading the dataset after a restart, a failover in progress, a cluster resharding.
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|NOREPLICAS|MISCONF)\b/

// Errors the store raises for a caller's mistake. Only these, and error replies that are not
// transient, pass through unchanged: a TypeError from inside the client (seen while a Cluster is
// unreachable) is an outage like any other.
const misuseErrors = new WeakSet<Error>()

/** A programming mistake by the caller (a plain `TypeError`, never turned into a 503). */
export function misuse(message: string): TypeError {
  const error = new TypeError(message)
  misuseErrors.add(error)
  return error
}

/**
 * Connection failures, timeouts and transient error replies become `ServiceUnavailableError` (a
 * 503, never "no session"); other error replies are bugs and are passed on unchanged.
 */
export function translateRedisError(error: unknown): unknown {
  if (error instanceof ErrorReply && !TRANSIENT_REPLY.test(error.message)) return error
  if (error instanceof SyntaxError || (error instanceof Error && misuseErrors.has(error))) return error
  const detail = error instanceof Error ? error.message : String(error)
  return new ServiceUnavailableError(`The Redis session store is unavailable (${detail}); it reconnects by itself, try again shortly`, {
    cause: error,
  })
}
