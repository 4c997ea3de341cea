import { randomUUID } from 'node:crypto'
import { InternalServerError, PikkuError, type PikkuErrorCode, ServiceUnavailableError } from './errors.js'
import type { Logger } from './logger.js'

/** How one error code appears on each protocol. */
export interface ErrorMapping {
  /** HTTP status code. */
  readonly http: number
  /** The `error.code` a WebSocket channel reply carries. */
  readonly channel: PikkuErrorCode
  /** Process exit code of a CLI command that failed this way. */
  readonly exitCode: number
  /** JSON-RPC error code (MCP). Server-defined codes sit in -32000..-32099. */
  readonly jsonRpc: number
}

/**
 * The single table every protocol uses. `satisfies Record<PikkuErrorCode, …>` makes a new code a
 * compile error here, and protocol packages that switch on codes fail to compile too.
 */
export const errorTable = {
  BAD_REQUEST: { http: 400, channel: 'BAD_REQUEST', exitCode: 2, jsonRpc: -32602 },
  UNAUTHORIZED: { http: 401, channel: 'UNAUTHORIZED', exitCode: 3, jsonRpc: -32001 },
  FORBIDDEN: { http: 403, channel: 'FORBIDDEN', exitCode: 4, jsonRpc: -32003 },
  NOT_FOUND: { http: 404, channel: 'NOT_FOUND', exitCode: 5, jsonRpc: -32004 },
  CONFLICT: { http: 409, channel: 'CONFLICT', exitCode: 6, jsonRpc: -32009 },
  PAYLOAD_TOO_LARGE: { http: 413, channel: 'PAYLOAD_TOO_LARGE', exitCode: 7, jsonRpc: -32013 },
  TOO_MANY_REQUESTS: { http: 429, channel: 'TOO_MANY_REQUESTS', exitCode: 8, jsonRpc: -32029 },
  SERVICE_UNAVAILABLE: { http: 503, channel: 'SERVICE_UNAVAILABLE', exitCode: 9, jsonRpc: -32050 },
  INTERNAL: { http: 500, channel: 'INTERNAL', exitCode: 1, jsonRpc: -32603 },
} as const satisfies Record<PikkuErrorCode, ErrorMapping>

/** What a caller may see of an error: safe to serialise on any protocol. */
export interface PublicError {
  readonly code: PikkuErrorCode
  readonly message: string
  /** Present for internal and service-unavailable errors: quote it to find the logged detail. */
  readonly id?: string
  /** Caller-safe detail, such as input validation issues. */
  readonly details?: unknown
}

/**
 * Turns anything thrown into a `PikkuError`. Unknown errors become an `InternalServerError` whose
 * detail is logged under a fresh id; nothing about them reaches the caller. A service-unavailable
 * error is logged the same way, with its cause (the driver's error), and given that id, so the
 * caller of a 503 has an id to quote; its message (caller-safe by contract) is kept.
 */
export function toPikkuError(error: unknown, logger: Logger): PikkuError {
  if (error instanceof PikkuError) {
    if (error instanceof InternalServerError) return error
    if (error.code === 'INTERNAL') return new InternalServerError(logWithId('internal error', error, logger), { cause: error })
    if (error.code === 'SERVICE_UNAVAILABLE') {
      if (error instanceof ServiceUnavailableError && error.errorId !== undefined) return error
      const errorId = logWithId('service unavailable', error, logger)
      return new ServiceUnavailableError(error.message, { cause: error, errorId, details: error.details })
    }
    return error
  }
  return new InternalServerError(logWithId('unhandled error in function call', error, logger), { cause: error })
}

/** Logs `error` (message, cause and all) under a fresh id, and returns the id. */
function logWithId(message: string, error: unknown, logger: Logger): string {
  const id = randomUUID()
  try {
    logger.error(message, { errorId: id, error })
  } catch {
    // A failing logger must not turn an error the caller can be told about into a crash.
  }
  return id
}

/** The caller-facing view of an error, with internals removed. */
export function toPublicError(error: unknown, logger: Logger): PublicError {
  const pikkuError = toPikkuError(error, logger)
  if (pikkuError instanceof InternalServerError) {
    return { code: 'INTERNAL', message: pikkuError.message, id: pikkuError.errorId }
  }
  if (pikkuError instanceof ServiceUnavailableError && pikkuError.errorId !== undefined) {
    return pikkuError.details === undefined
      ? { code: 'SERVICE_UNAVAILABLE', message: pikkuError.message, id: pikkuError.errorId }
      : { code: 'SERVICE_UNAVAILABLE', message: pikkuError.message, id: pikkuError.errorId, details: pikkuError.details }
  }
  return pikkuError.details === undefined
    ? { code: pikkuError.code, message: pikkuError.message }
    : { code: pikkuError.code, message: pikkuError.message, details: pikkuError.details }
}
