import { createConsoleLogger, type Logger, type Services, type UserSession, type UserSessionService } from '@pikku/core'
import { commitEachOperation, createRequestSessions, type HTTPSessionStrategy, type SessionHeaders } from '@pikku/http'
import { parseSetCookie } from 'cookie'
import { cookies, headers } from 'next/headers.js'
import { incomingFromHeaders, incomingFromNextRequest } from './next-request.js'

export interface NextSessionsOptions {
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
   * Where a renewal cookie that a server component could not set is reported (at debug level).
   * @default createConsoleLogger()
   */
  logger?: Logger
}

export interface NextSessions {
  /**
   * The user session of the request being handled, shared with the Pikku routes: in a server
   * component (read it), a server action or a route handler (read, start with
   * `set(user, { login: true })`, end with `clear()`). In a route handler pass its `request`, so
   * the method and URL are known (a cross-site POST with the session cookie is then refused, as on
   * a Pikku route). Each change is stored, and its cookie set through `cookies()`, before its
   * promise resolves. Nothing is read until the session is first used.
   */
  getSession(request?: Request): Promise<UserSessionService<UserSession>>
}

type CookieStore = Awaited<ReturnType<typeof cookies>>

function applyCookies(store: CookieStore, sessionHeaders: SessionHeaders): void {
  for (const [name, value] of sessionHeaders) {
    if (name !== 'set-cookie') continue
    const cookie = parseSetCookie(value)
    const sameSite = cookie.sameSite === true ? 'strict' : cookie.sameSite === false ? undefined : cookie.sameSite
    store.set({
      name: cookie.name,
      value: cookie.value ?? '',
      ...(cookie.httpOnly === undefined ? {} : { httpOnly: cookie.httpOnly }),
      ...(cookie.secure === undefined ? {} : { secure: cookie.secure }),
      ...(sameSite === undefined ? {} : { sameSite }),
      ...(cookie.path === undefined ? {} : { path: cookie.path }),
      ...(cookie.domain === undefined ? {} : { domain: cookie.domain }),
      ...(cookie.maxAge === undefined ? {} : { maxAge: cookie.maxAge }),
      ...(cookie.expires === undefined ? {} : { expires: cookie.expires }),
      ...(cookie.partitioned === undefined ? {} : { partitioned: cookie.partitioned }),
    })
  }
}

/**
 * Sessions for the Next.js side of an app: `export const { getSession } = createNextSessions({ sessions: httpSessions })`
 * in a server-only module, then `await getSession()` wherever `cookies()` can be called.
 */
export function createNextSessions(options: NextSessionsOptions): NextSessions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createNextSessions needs an options object: { sessions: createHTTPSessions({ … }) }')
  }
  const sessions = createRequestSessions({ sessions: options.sessions, ...(options.services === undefined ? {} : { services: options.services }) })
  const logger = options.logger ?? createConsoleLogger()
  return {
    async getSession(request) {
      const incoming = request === undefined ? incomingFromHeaders(await headers()) : incomingFromNextRequest(request)
      const store = await cookies()
      // Next.js has no hook after a server action or route handler where a store write could still
      // go before the response: each operation is stored at once.
      return commitEachOperation(
        () => sessions.open(incoming),
        (sessionHeaders, change) => {
          try {
            applyCookies(store, sessionHeaders)
          } catch (error) {
            // A server component may read a session but cannot set cookies: a renewed cookie (the
            // encrypted-cookie strategy's) waits for the next action or route handler. A change cannot wait.
            if (change) throw error
            logger.debug('A renewed session cookie could not be set from a server component', { error })
          }
        },
      )
    },
  }
}
