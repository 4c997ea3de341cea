import type { Services, UserSession, UserSessionService } from '@pikku/core'
import { commitEachOperation, createRequestSessions, type HTTPSessionStrategy } from '@pikku/http'
import type { RequestHandler } from 'express'
import { applyHeaders, incomingFromExpress } from './express-request.js'

declare global {
  // Express's own way to type what middleware adds to a request.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The user session, shared with the Pikku routes (added by `pikkuSession()`). Each change is
       * stored, and its cookie put on the response, when its promise resolves: await it before
       * responding.
       */
      userSession: UserSessionService<UserSession>
    }
  }
}

export interface PikkuSessionOptions {
  /**
   * The app's HTTP session strategy: the same `createHTTPSessions(…)` (or other strategy) whose
   * middleware the Pikku handler runs, so both see one session.
   */
  sessions: HTTPSessionStrategy
  /**
   * The services the strategy's middleware receives.
   * @default {} (the bundled strategies use none)
   */
  services?: Services
}

/**
 * Gives every Express request `req.userSession`: the same session the Pikku routes use, to read
 * in the app's own routes, or to start (`set(user, { login: true })`, an OAuth callback) or end
 * (`clear()`) without building a cookie. Mount it before the routes that use it:
 * `app.use(pikkuSession({ sessions: httpSessions }))`. Nothing is read until a route asks.
 */
export function pikkuSession(options: PikkuSessionOptions): RequestHandler {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('pikkuSession needs an options object: { sessions: createHTTPSessions({ … }) }')
  }
  const sessions = createRequestSessions({ sessions: options.sessions, ...(options.services === undefined ? {} : { services: options.services }) })
  return function pikkuSessionMiddleware(req, res, next) {
    // Express has no hook between a route and its response: each operation is stored at once.
    req.userSession = commitEachOperation(
      () => sessions.open(incomingFromExpress(req)),
      // A read after the response went out can still renew the stored session; its headers are moot.
      (headers) => {
        if (!res.headersSent) applyHeaders(res, headers)
      },
      () => {
        if (res.headersSent) {
          throw new Error('req.userSession was changed after the response was sent: await the change before responding, so its cookie goes with the response')
        }
      },
    )
    next()
  }
}
