import type { Services, SessionSetOptions, UserSession, UserSessionService } from '@pikku/core'
import { createRequestSessions, type HTTPSessionStrategy, type RequestSession, type RequestSessions } from '@pikku/http'
import type { Request, RequestHandler, Response } from 'express'
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
 * The session of one Express request. Express has no hook that runs after a route and before the
 * response is written, so each operation is committed at once: a change is stored before its
 * promise resolves, and a read commits a due renewal.
 */
class ExpressUserSession implements UserSessionService<UserSession> {
  #session: RequestSession | undefined

  constructor(
    private readonly sessions: RequestSessions,
    private readonly req: Request,
    private readonly res: Response,
  ) {}

  async #committed<T>(operation: (session: RequestSession) => Promise<T>, changes: boolean): Promise<T> {
    const res = this.res
    if (changes && res.headersSent) {
      throw new Error('req.userSession was changed after the response was sent: await the change before responding, so its cookie goes with the response')
    }
    const session = (this.#session ??= this.sessions.open(incomingFromExpress(this.req)))
    const result = await operation(session)
    const headers = await session.commit()
    // A read after the response went out can still renew the stored session; its headers are moot.
    if (!res.headersSent) applyHeaders(res, headers)
    return result
  }

  get(): Promise<UserSession | undefined> {
    return this.#committed((session) => session.get(), false)
  }

  set(value: UserSession, options?: SessionSetOptions): Promise<void> {
    return this.#committed((session) => session.set(value, options), true)
  }

  update(patch: Partial<Omit<UserSession, 'userId'>>): Promise<UserSession> {
    return this.#committed((session) => session.update(patch), true)
  }

  clear(): Promise<void> {
    return this.#committed((session) => session.clear(), true)
  }
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
    req.userSession = new ExpressUserSession(sessions, req, res)
    next()
  }
}
