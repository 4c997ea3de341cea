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
 *
 * The message is fixed: callers see it (core passes a store's `ServiceUnavailableError` through),
 * and a driver's message can name hosts, ports, users or keys. The driver's error is the `cause`,
 * which loggers record and responses never include.
 */
export function translateRedisError(error: unknown): unknown {
  if (error instanceof ErrorReply && !TRANSIENT_REPLY.test(error.message)) return error
  if (error instanceof SyntaxError || (error instanceof Error && misuseErrors.has(error))) return error
  return new ServiceUnavailableError(STORE_UNAVAILABLE, { cause: error })
}

/** What every outage of the store says to callers, whatever the driver reported. */
export const STORE_UNAVAILABLE = 'The session store is unavailable; try again shortly'
