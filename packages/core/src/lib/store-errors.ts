import { ServiceUnavailableError, STORE_UNAVAILABLE_MESSAGE } from './errors.js'

// How a store reports failures, once for every store: an outage is a 503 with a fixed message
// (a driver's message can name hosts, users, files), never "no session"; a caller's mistake and a
// driver-reported bug pass through unchanged, so they are not disguised as an outage.

// Errors a store raised for a caller's mistake (see `storeMisuse`).
const misuseErrors = new WeakSet<Error>()

/** A programming mistake by the store's caller: a plain `TypeError` that `translateStoreError` never turns into a 503. */
export function storeMisuse(message: string): TypeError {
  const error = new TypeError(message)
  misuseErrors.add(error)
  return error
}

/** The store is unreachable: `ServiceUnavailableError` with the fixed caller-safe message, and `cause` as its cause (for the logs). */
export function storeUnavailable(cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError(STORE_UNAVAILABLE_MESSAGE, { cause })
}

/**
 * What a store throws for an error from its driver. A `storeMisuse` error, a `SyntaxError` (a
 * record's unparseable JSON) and anything `isBug` recognises (an error the server reported about
 * the command itself) pass through unchanged; everything else, even a `TypeError` from inside a
 * driver that lost its connection, is an outage (`storeUnavailable`).
 */
export function translateStoreError(error: unknown, isBug: (error: unknown) => boolean): unknown {
  if (error instanceof SyntaxError || (error instanceof Error && misuseErrors.has(error))) return error
  if (isBug(error)) return error
  return storeUnavailable(error)
}
