import { createConsoleLogger, type Logger, type Services, type UserSession, type UserSessionService } from '@pikku/core'
import { createRequestSessions, errorResponse, incomingFromRequest, toResponse, type HTTPSessionStrategy, type RequestSession } from '@pikku/http'
import type { MiddlewareHandler } from 'hono'

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
  /**
   * Where a commit that fails with a service-unavailable or unexpected error is logged, under the
   * id its response carries.
   * @default createConsoleLogger()
   */
  logger?: Logger
}

/** What `pikkuSession` adds to a Hono app's environment: `new Hono<PikkuSessionEnv>()`. */
export interface PikkuSessionEnv {
  Variables: {
    /**
     * The user session, shared with the Pikku routes. Changes are stored once, after the handler
     * and before the response leaves; a handler that throws stores none.
     */
    userSession: UserSessionService<UserSession>
  }
}

/**
 * Puts the user session on `c.var.userSession` for every route after it: the same session the
 * Pikku routes use, to read, to start (`set(user, { login: true })`, an OAuth callback) or to end
 * (`clear()`) without building a cookie. Nothing is read until a route asks.
 */
export function pikkuSession(options: PikkuSessionOptions): MiddlewareHandler<PikkuSessionEnv> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('pikkuSession needs an options object: { sessions: createHTTPSessions({ … }) }')
  }
  const sessions = createRequestSessions({ sessions: options.sessions, ...(options.services === undefined ? {} : { services: options.services }) })
  const logger = options.logger ?? createConsoleLogger()
  return async function pikkuSessionMiddleware(c, next) {
    let opened: RequestSession | undefined
    const session = (): RequestSession => (opened ??= sessions.open(incomingFromRequest(c.req.raw)))
    c.set('userSession', {
      get: () => session().get(),
      set: (value, setOptions) => session().set(value, setOptions),
      update: (patch) => session().update(patch),
      clear: () => session().clear(),
      list: () => session().list(),
      revoke: (handle) => session().revoke(handle),
      revokeOthers: () => session().revokeOthers(),
    })
    await next()
    if (opened === undefined) return
    // Hono catches a handler's error and answers it; what the handler changed is not stored.
    if (c.error !== undefined) {
      await opened.discard()
      return
    }
    try {
      // Stored before the response leaves: a client that follows a redirect finds the session.
      for (const [name, value] of await opened.commit()) c.header(name, value, { append: name === 'set-cookie' })
    } catch (error) {
      // Refused or failed (403 cross-site, 413, 503): answered as a Pikku route answers it.
      c.res = undefined
      c.res = toResponse(errorResponse(error, logger))
    }
  }
}
