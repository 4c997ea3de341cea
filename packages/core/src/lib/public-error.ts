import { randomUUID } from 'node:crypto'
import { InternalServerError, PikkuError, type PikkuErrorCode, ServiceUnavailableError } from './errors.js'
import type { Logger } from './logger.js'

// How a protocol shows an error code (an HTTP status, an exit code, a JSON-RPC code) is the
// protocol package's own table (`… as const satisfies Record<PikkuErrorCode, …>`), never core's:
// a new protocol must not need a core release. Core only decides what a caller may see.

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
