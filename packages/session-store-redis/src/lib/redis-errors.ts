import { translateStoreError } from '@pikku/core/store'
import { ErrorReply } from 'redis'

// Error replies that mean "this server cannot serve you right now", not "your command is wrong":
// loading the dataset after a restart, a failover in progress, a cluster resharding.
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|NOREPLICAS|MISCONF)\b/

/** An error reply about the command itself (not a transient state): a bug, passed on unchanged. */
function isReplyBug(error: unknown): boolean {
  return error instanceof ErrorReply && !TRANSIENT_REPLY.test(error.message)
}

/**
 * Connection failures, timeouts and transient error replies become `ServiceUnavailableError` (a
 * 503, never "no session"), with core's fixed message and the driver's error as `cause`; other
 * error replies are bugs and are passed on unchanged. A TypeError from inside the client (seen
 * while a Cluster is unreachable) is an outage like any other.
 */
export function translateRedisError(error: unknown): unknown {
  return translateStoreError(error, isReplyBug)
}
