/**
 * Every runtime condition a caller can handle is a `PikkuError` with a stable, machine-readable
 * code. Each protocol package maps codes to its own statuses in its own table.
 */
export type PikkuErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'INTERNAL'
  | 'SERVICE_UNAVAILABLE'

export interface PikkuErrorOptions {
  /** The underlying error; logged, never shown to callers. */
  cause?: unknown
  /** Structured, caller-safe detail (for example the list of invalid input fields). */
  details?: unknown
}

export class PikkuError extends Error {
  readonly code: PikkuErrorCode
  readonly details: unknown

  constructor(code: PikkuErrorCode, message: string, options: PikkuErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.details = options.details
  }
}

/** No session, or the credential offered is invalid, expired or revoked (401). */
export class UnauthorizedError extends PikkuError {
  constructor(message = 'Authentication required', options?: PikkuErrorOptions) {
    super('UNAUTHORIZED', message, options)
  }
}

/** A session is present but is not allowed to do this (403). */
export class ForbiddenError extends PikkuError {
  constructor(message = 'Not allowed', options?: PikkuErrorOptions) {
    super('FORBIDDEN', message, options)
  }
}

/** The input is malformed or fails the function's schema (400). */
export class BadRequestError extends PikkuError {
  constructor(message = 'Bad request', options?: PikkuErrorOptions) {
    super('BAD_REQUEST', message, options)
  }
}

export class NotFoundError extends PikkuError {
  constructor(message = 'Not found', options?: PikkuErrorOptions) {
    super('NOT_FOUND', message, options)
  }
}

/** A versioned write kept losing against concurrent writers, or a state conflict (409). */
export class ConflictError extends PikkuError {
  constructor(message = 'Conflict', options?: PikkuErrorOptions) {
    super('CONFLICT', message, options)
  }
}

export class PayloadTooLargeError extends PikkuError {
  constructor(message = 'Payload too large', options?: PikkuErrorOptions) {
    super('PAYLOAD_TOO_LARGE', message, options)
  }
}

export interface TooManyRequestsErrorOptions extends PikkuErrorOptions {
  /**
   * Seconds until a retry can succeed, rounded up to a whole second. Sent as HTTP `Retry-After`
   * and, on every protocol, as `details.retryAfter` (unless `details` is given).
   * @default undefined (no advice)
   */
  retryAfter?: number
}

/** The caller must slow down, for example after too many failed logins (429). */
export class TooManyRequestsError extends PikkuError {
  /** Whole seconds until a retry can succeed, when known. */
  readonly retryAfter: number | undefined

  constructor(message = 'Too many requests', options: TooManyRequestsErrorOptions = {}) {
    const { retryAfter, ...rest } = options
    if (retryAfter !== undefined && (typeof retryAfter !== 'number' || !Number.isFinite(retryAfter) || retryAfter < 0)) {
      throw new TypeError(`TooManyRequestsError: retryAfter must be a non-negative number of seconds; got ${String(retryAfter)}`)
    }
    // Retry-After is a whole number of seconds (RFC 9110 section 10.2.3); rounding down would
    // invite a retry that is refused again.
    const seconds = retryAfter === undefined ? undefined : Math.ceil(retryAfter)
    super('TOO_MANY_REQUESTS', message, rest.details === undefined && seconds !== undefined ? { ...rest, details: { retryAfter: seconds } } : rest)
    this.retryAfter = seconds
  }
}

/** What callers are told when the session store cannot be reached, whichever store and driver. */
export const STORE_UNAVAILABLE_MESSAGE = 'The session store is unavailable; try again shortly'

/**
 * A dependency (usually the session store) is unreachable (503). Never turned into "no session":
 * treating an outage as a logout silently signs every user out.
 *
 * Its message is shown to callers, so it must not quote a driver (a host, a user name, sometimes
 * a password): put the driver's error in `cause`. The session manager does so for every store
 * failure (message `STORE_UNAVAILABLE_MESSAGE`), whatever the store threw. The runner (or
 * `toPublicError`) logs the error with its cause under a fresh `errorId`, which callers see.
 */
export class ServiceUnavailableError extends PikkuError {
  /** The id the error was logged under, once it has been (see `toPikkuError`). */
  readonly errorId: string | undefined

  constructor(message = 'Service unavailable', options?: PikkuErrorOptions & { errorId?: string }) {
    super('SERVICE_UNAVAILABLE', message, options)
    this.errorId = options?.errorId
  }
}

/**
 * An unexpected failure (500). Callers see only a generic message and `errorId`; the detail goes
 * to the logger under the same id.
 */
export class InternalServerError extends PikkuError {
  readonly errorId: string

  constructor(errorId: string, options?: PikkuErrorOptions) {
    super('INTERNAL', 'Internal server error', options)
    this.errorId = errorId
  }
}
