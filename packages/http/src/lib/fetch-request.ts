import { PayloadTooLargeError } from '@pikku/core'
import type { IncomingHTTP, OutgoingHTTP } from './incoming.js'
import { RequestAbortedError } from './request-aborted.js'

async function readLimited(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) {
    throw new PayloadTooLargeError(`The request body is larger than the limit of ${limit} bytes`)
  }
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>
    try {
      result = await reader.read()
    } catch (error) {
      // The runtime aborts the request's signal when the client goes away; that is no server error.
      if (request.signal.aborted) throw new RequestAbortedError({ cause: error })
      throw error
    }
    const { done, value } = result
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw new PayloadTooLargeError(`The request body is larger than the limit of ${limit} bytes`)
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

export interface IncomingFromRequestOptions {
  /** The client's address (`wire.client.address`), when the runtime knows it. @default undefined */
  clientAddress?: string | undefined
  /**
   * The path to route on, when it differs from the URL's (a framework that mounts the handler
   * under a prefix passes the path with the prefix removed).
   * @default the URL's pathname
   */
  path?: string
  /** A body the host framework already read and parsed; see `IncomingHTTP.parsedBody`. @default undefined */
  parsedBody?: { readonly value: unknown } | undefined
}

/**
 * The transport-neutral view of a web `Request`, for `HTTPHandler.handle` and request sessions.
 * For authors of adapters to fetch-API frameworks; `toFetchHandler` uses it.
 */
export function incomingFromRequest(request: Request, options: IncomingFromRequestOptions = {}): IncomingHTTP {
  const url = new URL(request.url)
  return {
    method: request.method,
    path: options.path ?? url.pathname,
    query: url.search.length > 1 ? url.search.slice(1) : '',
    secure: url.protocol === 'https:',
    clientAddress: options.clientAddress,
    header: (name) => request.headers.get(name) ?? undefined,
    origin: () => url.origin,
    readBody: (limit) => readLimited(request, limit),
    parsedBody: options.parsedBody,
  }
}

/** A web `Response` carrying what the handler answered (nothing for a client that went away). */
export function toResponse(outgoing: OutgoingHTTP): Response {
  const headers = new Headers()
  for (const [name, value] of outgoing.headers) headers.append(name, value)
  return new Response(outgoing.aborted === true ? null : (outgoing.stream ?? outgoing.body), { status: outgoing.status, headers })
}

/**
 * `response` with `headers` added (Set-Cookie appended, any other replaced): how a fetch-API host
 * sends what a request session's `commit()` returned. The response's own headers may be immutable
 * (`Response.redirect`), so a copy is returned when there is anything to add.
 */
export function withHeaders(response: Response, headers: readonly (readonly [string, string])[]): Response {
  if (headers.length === 0) return response
  const copy = new Response(response.body, response)
  for (const [name, value] of headers) {
    if (name === 'set-cookie') copy.headers.append(name, value)
    else copy.headers.set(name, value)
  }
  return copy
}
