import { PayloadTooLargeError } from '@pikku/core'
import type { HTTPHandler } from './handler.js'
import type { IncomingHTTP } from './incoming.js'
import { RequestAbortedError } from './request-aborted.js'

export interface FetchHandlerOptions<Context = unknown> {
  /**
   * The client's address for `wire.client.address`. A web `Request` does not carry one; the
   * runtime does, and hands it to the fetch handler beside the request, which passes it on as
   * `context`: on Bun `Bun.serve({ fetch: (request, server) => handle(request, server) })` with
   * `clientAddress: (request, server) => server?.requestIP(request)?.address`; on Deno
   * `Deno.serve((request, info) => handle(request, info))` with
   * `clientAddress: (_request, info) => info?.remoteAddr.hostname`. Behind a proxy you run, read
   * the rightmost `X-Forwarded-For` entry with `forwardedForAddress(request.headers.get('x-forwarded-for') ?? undefined)`.
   * @default undefined (no client address)
   */
  clientAddress?: (request: Request, context: Context | undefined) => string | undefined
}

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

/**
 * Serves the handler as a web-standard `(Request) => Promise<Response>`: Bun, Deno, edge runtimes,
 * or any server that speaks the fetch API. The optional second argument is passed to
 * `clientAddress`.
 */
export function toFetchHandler<Context = unknown>(
  handler: HTTPHandler,
  options: FetchHandlerOptions<Context> = {},
): (request: Request, context?: Context) => Promise<Response> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('toFetchHandler takes an optional options object such as { clientAddress: (request, server) => … }')
  }
  const clientAddress = options.clientAddress
  if (clientAddress !== undefined && typeof clientAddress !== 'function') {
    throw new TypeError(`toFetchHandler: clientAddress must be a function (request, context) => string | undefined; got ${typeof clientAddress}`)
  }
  return async (request, context) => {
    const url = new URL(request.url)
    const address = clientAddress?.(request, context)
    const incoming: IncomingHTTP = {
      method: request.method,
      path: url.pathname,
      query: url.search.length > 1 ? url.search.slice(1) : '',
      secure: url.protocol === 'https:',
      clientAddress: typeof address === 'string' && address.length > 0 ? address : undefined,
      header: (name) => request.headers.get(name) ?? undefined,
      origin: () => url.origin,
      readBody: (limit) => readLimited(request, limit),
    }
    const response = await handler.handle(incoming)
    const headers = new Headers()
    for (const [name, value] of response.headers) headers.append(name, value)
    return new Response(response.aborted === true ? null : (response.stream ?? response.body), { status: response.status, headers })
  }
}
