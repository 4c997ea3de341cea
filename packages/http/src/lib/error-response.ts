import { TooManyRequestsError, type Logger } from '@pikku/core'
import { toPublicError } from '@pikku/core/protocol'
import { httpStatusOf } from './http-status.js'
import type { OutgoingHTTP } from './incoming.js'

export const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * The HTTP answer to an error, as every Pikku route gives it: the status from `HTTP_STATUS`, a
 * JSON body `{ "error": { code, message, id?, details? } }`, `Retry-After` on a 429 that says when,
 * and `headers` (a call's own, such as a cookie being cleared) kept, except a Content-Type.
 * Anything that is not a `PikkuError` is a 500 whose detail is logged under the id the body
 * carries. Framework adapters use it to answer errors of the host's routes the same way.
 */
export function errorResponse(error: unknown, logger: Logger, headers?: readonly (readonly [string, string])[]): OutgoingHTTP {
  const publicError = toPublicError(error, logger)
  // An error is always answered in JSON, whatever type the call meant to send.
  const out: [string, string][] = [['content-type', JSON_TYPE]]
  if (headers !== undefined) for (const header of headers) if (header[0] !== 'content-type') out.push([header[0], header[1]])
  // RFC 9110 section 10.2.3: a 429 says when to come back, in seconds.
  if (error instanceof TooManyRequestsError && error.retryAfter !== undefined) out.push(['retry-after', String(error.retryAfter)])
  return { status: httpStatusOf(publicError.code), headers: out, body: JSON.stringify({ error: publicError }) }
}
