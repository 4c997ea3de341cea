import { incomingFromRequest, toResponse } from './fetch-request.js'
import type { HTTPHandler } from './handler.js'

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
    const address = clientAddress?.(request, context)
    return toResponse(await handler.handle(incomingFromRequest(request, { clientAddress: typeof address === 'string' && address.length > 0 ? address : undefined })))
  }
}
