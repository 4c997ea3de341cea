/**
 * The client went away before its request was read in full (it closed or reset the connection
 * mid-body). Not a server error: the handler logs it at debug level, reports it to `onResponse`
 * as aborted, and sends nothing. Adapters reject `IncomingHTTP.readBody` with it.
 */
export class RequestAbortedError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('The client closed the connection before the request body was complete', options)
    this.name = 'RequestAbortedError'
  }
}

/** True for an error an adapter raised because the client went away (also from another copy of this package). */
export function isRequestAborted(error: unknown): boolean {
  return error instanceof RequestAbortedError || (error instanceof Error && error.name === 'RequestAbortedError')
}
