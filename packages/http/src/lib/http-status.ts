import type { PikkuErrorCode } from '@pikku/core'

/**
 * The HTTP status each error code is answered with. This transport owns the mapping: core only
 * knows codes, and `satisfies Record<PikkuErrorCode, number>` makes a code core adds a compile
 * error here until it is given a status.
 */
export const HTTP_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<PikkuErrorCode, number>

/**
 * The HTTP status for an error code (`httpStatusOf(error.code)`), for code that answers HTTP
 * outside `createHTTPHandler`: framework adapters handing errors to the host's error handling, a
 * WebSocket upgrade refusal, an MCP endpoint. A string that is not a code (from an error that
 * crossed a process boundary, say) is answered as an internal error, 500.
 */
export function httpStatusOf(code: PikkuErrorCode): number {
  return Object.hasOwn(HTTP_STATUS, code) ? HTTP_STATUS[code] : HTTP_STATUS.INTERNAL
}
