import type { PikkuErrorCode } from '@pikku/core'

/**
 * The `error.code` a channel reply carries for each of core's error codes. Each code is shown as
 * itself today, the same code HTTP error bodies carry; the table exists so that a code added to
 * core fails to compile here, where its wire form is decided, instead of reaching clients
 * unmapped. (A refused upgrade is an HTTP response: its status is `@pikku/http`'s `httpStatusOf`.)
 */
export const CHANNEL_ERROR_CODE = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const satisfies Record<PikkuErrorCode, string>
