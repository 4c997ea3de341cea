import type { RoutedHTTPHandler } from '@pikku/http'
import type { RequestHandler } from 'express'
import { incomingFromExpress, sendOutgoing } from './express-request.js'

/**
 * Serves the handler's routes as Express middleware: `app.use('/api', pikkuRoutes(handler))`.
 * A request no Pikku route serves (another path, or another method on a Pikku path) goes on to
 * the app's own routes with `next()`. Routes match below the mount point. It works before or
 * after `express.json()` and `express.urlencoded()`: a body they parsed is used as it is, and an
 * unparsed one is read with the handler's `bodyLimit`.
 */
export function pikkuRoutes(handler: RoutedHTTPHandler): RequestHandler {
  if (handler === null || typeof handler !== 'object' || typeof handler.handle !== 'function' || typeof handler.has !== 'function') {
    throw new TypeError('pikkuRoutes needs the handler from createHTTPHandler({ runner, routes }) in @pikku/http')
  }
  return function pikkuRoutesMiddleware(req, res, next) {
    if (!handler.has(req.method, req.path)) {
      next()
      return
    }
    // handle() answers every error itself; a rejection would be a broken adapter, so Express reports it.
    handler.handle(incomingFromExpress(req)).then((outgoing) => sendOutgoing(res, outgoing), next)
  }
}
