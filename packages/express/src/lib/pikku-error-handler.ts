import { createConsoleLogger, PikkuError, type Logger } from '@pikku/core'
import { errorResponse } from '@pikku/http'
import type { ErrorRequestHandler } from 'express'
import { sendOutgoing } from './express-request.js'

export interface PikkuErrorHandlerOptions {
  /** Where service-unavailable errors are logged, under the id the response carries. @default createConsoleLogger() */
  logger?: Logger
}

/**
 * Answers a `PikkuError` thrown by the app's own routes (say, a 503 from `req.userSession.get()`
 * while the store is down, or a 403 for a cross-site change) as the Pikku routes answer it: the
 * status from the error table and `{ "error": { code, message, id? } }`. Any other error goes on to
 * the app's error handlers. Mount it after the routes: `app.use(pikkuErrorHandler())`.
 */
export function pikkuErrorHandler(options: PikkuErrorHandlerOptions = {}): ErrorRequestHandler {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('pikkuErrorHandler takes an optional options object such as { logger }')
  }
  const logger = options.logger ?? createConsoleLogger()
  return function pikkuErrors(error: unknown, _req, res, next) {
    if (!(error instanceof PikkuError) || res.headersSent) {
      next(error)
      return
    }
    sendOutgoing(res, errorResponse(error, logger))
  }
}
