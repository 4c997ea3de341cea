import type { PikkuErrorCode } from '@pikku/core'

/** How one of core's error codes appears on a channel. */
export interface ChannelErrorMapping {
  /** The `error.code` of a reply that failed this way. */
  readonly code: string
  /** The HTTP status of an upgrade refused this way (the upgrade is still an HTTP exchange). */
  readonly upgradeStatus: number
}

/**
 * The channel's own table from core's error codes to what a client sees. A reply shows each code
 * as itself today, the same code HTTP error bodies carry; the table exists so that a new code in
 * core fails to compile here, where its wire form is decided, instead of reaching clients
 * unmapped. The upgrade statuses are those of HTTP responses for the same codes.
 */
export const CHANNEL_ERROR_TABLE = {
  BAD_REQUEST: { code: 'BAD_REQUEST', upgradeStatus: 400 },
  UNAUTHORIZED: { code: 'UNAUTHORIZED', upgradeStatus: 401 },
  FORBIDDEN: { code: 'FORBIDDEN', upgradeStatus: 403 },
  NOT_FOUND: { code: 'NOT_FOUND', upgradeStatus: 404 },
  CONFLICT: { code: 'CONFLICT', upgradeStatus: 409 },
  PAYLOAD_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', upgradeStatus: 413 },
  TOO_MANY_REQUESTS: { code: 'TOO_MANY_REQUESTS', upgradeStatus: 429 },
  SERVICE_UNAVAILABLE: { code: 'SERVICE_UNAVAILABLE', upgradeStatus: 503 },
  INTERNAL: { code: 'INTERNAL', upgradeStatus: 500 },
} as const satisfies Record<PikkuErrorCode, ChannelErrorMapping>
