import type { RoutedHTTPHandler } from '@pikku/http'
import { toResponse } from '@pikku/http'
import type { Context, MiddlewareHandler } from 'hono'
import { incomingFromHono } from './hono-request.js'

export interface PikkuRoutesOptions {
  /**
   * The path the Pikku routes are served under, when the app mounts them below a prefix:
   * `app.use('/api/*', pikkuRoutes(handler, { basePath: '/api' }))` serves `GET /profile` at
   * `/api/profile`.
   * @default '' (routes at the paths they declare)
   */
  basePath?: string
  /**
   * The client's address for `wire.client.address` (login throttling, audit). Hono leaves it to
   * the runtime: on Node, `(c) => getConnInfo(c).remote.address` from `@hono/node-server/conninfo`.
   * @default undefined (no client address)
   */
  clientAddress?: (c: Context) => string | undefined
}

/**
 * Serves the handler's routes as Hono middleware. A request no Pikku route serves (another path,
 * or another method on a Pikku path) goes on to the app's own routes with `next()`. It works after
 * middleware that read the body through `c.req`.
 */
export function pikkuRoutes(handler: RoutedHTTPHandler, options: PikkuRoutesOptions = {}): MiddlewareHandler {
  if (handler === null || typeof handler !== 'object' || typeof handler.handle !== 'function' || typeof handler.has !== 'function') {
    throw new TypeError('pikkuRoutes needs the handler from createHTTPHandler({ runner, routes }) in @pikku/http')
  }
  if (options === null || typeof options !== 'object') throw new TypeError("pikkuRoutes takes an optional options object such as { basePath: '/api' }")
  const basePath = options.basePath ?? ''
  if (typeof basePath !== 'string' || (basePath !== '' && (!basePath.startsWith('/') || basePath.endsWith('/')))) {
    throw new TypeError(`pikkuRoutes: basePath must be '' or a path starting with '/' and not ending with one, such as '/api'; got ${JSON.stringify(basePath)}`)
  }
  const clientAddress = options.clientAddress
  if (clientAddress !== undefined && typeof clientAddress !== 'function') {
    throw new TypeError(`pikkuRoutes: clientAddress must be a function (c) => string | undefined; got ${typeof clientAddress}`)
  }
  return async function pikkuRoutesMiddleware(c, next) {
    const fullPath = c.req.path
    let path = fullPath
    if (basePath !== '') {
      if (fullPath !== basePath && !fullPath.startsWith(`${basePath}/`)) return next()
      path = fullPath.slice(basePath.length) || '/'
    }
    if (!handler.has(c.req.method, path)) return next()
    const address = clientAddress?.(c)
    const outgoing = await handler.handle(await incomingFromHono(c, path, typeof address === 'string' && address.length > 0 ? address : undefined))
    return toResponse(outgoing)
  }
}
