import { toResponse, type HTTPHandler } from '@pikku/http'
import { incomingFromNextRequest } from './next-request.js'

export interface PikkuRouteHandlersOptions {
  /**
   * The path of the catch-all route the handlers are exported from: for
   * `app/api/[...pikku]/route.ts`, `'/api'`, so `GET /profile` is served at `/api/profile`.
   * @default '' (a catch-all at the root)
   */
  basePath?: string
  /**
   * The client's address for `wire.client.address` (login throttling, audit). Next.js does not
   * hand it to route handlers; behind your own proxy, read the rightmost `X-Forwarded-For` entry
   * with `forwardedForAddress` from `@pikku/http`.
   * @default undefined (no client address)
   */
  clientAddress?: (request: Request) => string | undefined
}

type RouteHandler = (request: Request) => Promise<Response>

/** The route-handler exports of a catch-all route: `export const { GET, POST, … } = pikkuRouteHandlers(handler, …)`. */
export interface PikkuRouteHandlers {
  readonly GET: RouteHandler
  readonly POST: RouteHandler
  readonly PUT: RouteHandler
  readonly PATCH: RouteHandler
  readonly DELETE: RouteHandler
}

/**
 * Serves the handler's routes from a Next.js App Router catch-all route. Next.js's own routes
 * (`app/api/status/route.ts` beside `app/api/[...pikku]/route.ts`) are more specific and keep
 * their paths; any other path under the catch-all is answered by Pikku (404 when it has no route).
 */
export function pikkuRouteHandlers(handler: HTTPHandler, options: PikkuRouteHandlersOptions = {}): PikkuRouteHandlers {
  if (handler === null || typeof handler !== 'object' || typeof handler.handle !== 'function') {
    throw new TypeError('pikkuRouteHandlers needs the handler from createHTTPHandler({ runner, routes }) in @pikku/http')
  }
  if (options === null || typeof options !== 'object') throw new TypeError("pikkuRouteHandlers takes an optional options object such as { basePath: '/api' }")
  const basePath = options.basePath ?? ''
  if (typeof basePath !== 'string' || (basePath !== '' && (!basePath.startsWith('/') || basePath.endsWith('/')))) {
    throw new TypeError(`pikkuRouteHandlers: basePath must be '' or a path starting with '/' and not ending with one, such as '/api'; got ${JSON.stringify(basePath)}`)
  }
  const clientAddress = options.clientAddress
  if (clientAddress !== undefined && typeof clientAddress !== 'function') {
    throw new TypeError(`pikkuRouteHandlers: clientAddress must be a function (request) => string | undefined; got ${typeof clientAddress}`)
  }
  const serve: RouteHandler = async (request) => {
    const pathname = new URL(request.url).pathname
    // Next.js only calls the catch-all for paths below it; anything else is a misplaced export.
    const path = basePath === '' ? pathname : pathname.startsWith(basePath) ? pathname.slice(basePath.length) || '/' : pathname
    const address = clientAddress?.(request)
    return toResponse(await handler.handle(incomingFromNextRequest(request, path, typeof address === 'string' && address.length > 0 ? address : undefined)))
  }
  return { GET: serve, POST: serve, PUT: serve, PATCH: serve, DELETE: serve }
}
