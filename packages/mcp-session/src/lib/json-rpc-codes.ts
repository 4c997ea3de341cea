import type { PikkuErrorCode } from '@pikku/core'

/**
 * The JSON-RPC error code of each core error code on MCP. Server-defined codes sit in
 * -32000..-32099 (JSON-RPC 2.0 section 5.1); a caller's bad input is -32602 Invalid params and an
 * unexpected failure -32603 Internal error. `satisfies Record<PikkuErrorCode, number>` makes a new
 * core code a compile error here until it is given its number.
 */
export const JSON_RPC_CODE = {
  BAD_REQUEST: -32602,
  UNAUTHORIZED: -32001,
  FORBIDDEN: -32003,
  NOT_FOUND: -32004,
  CONFLICT: -32009,
  PAYLOAD_TOO_LARGE: -32013,
  TOO_MANY_REQUESTS: -32029,
  SERVICE_UNAVAILABLE: -32050,
  INTERNAL: -32603,
} as const satisfies Record<PikkuErrorCode, number>
