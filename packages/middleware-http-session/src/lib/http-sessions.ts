import {
  createConsoleLogger,
  type Logger,
  type PikkuMiddleware,
  type SessionAuthenticator,
  type SessionManager,
  type SessionRecord,
  type UserSession,
} from '@pikku/core'
import { isSessionTokenShape, type SessionState } from '@pikku/core/protocol'
import { resolveCsrfPolicy, type CsrfOptions } from './csrf.js'
import { COOKIE_SIZE_LIMIT, resolveSessionCookie, type CookieSessionOptions } from './session-cookie.js'
import { assertOwnClaims, createSignedTokens, type JwtOptions } from './signed-tokens.js'
import { createStoredSessionCredentials } from './stored-session-credentials.js'
import { createStoredSessionMiddleware } from './stored-session-middleware.js'

export interface HTTPSessionsOptions {
  /** Core's session manager: the store, idle and absolute timeouts, renewal. */
  sessions: SessionManager
  /**
   * Stored cookie sessions: the cookie holds only the opaque token core mints at login.
   * `false` turns cookies off (bearer tokens only).
   * @default {} (on, with the defaults of CookieSessionOptions)
   */
  cookie?: CookieSessionOptions | false
  /**
   * Bearer tokens: JWTs naming a stored session, accepted in `Authorization: Bearer <token>` and
   * issued by the `jwt` service (`jwtFor`).
   * @default false (off unless given)
   */
  jwt?: JwtOptions | false
  /**
   * Cross-site request defence for cookie-authenticated POST, PUT, PATCH and DELETE, and for any
   * call that would store a change to a cookie session (login, update, logout), whatever its method.
   * @default {} (on, own origin only)
   */
  csrf?: CsrfOptions | false
  /** Where the `secure: false` warning and (at debug level) credential rejection reasons go. @default createConsoleLogger() (debug off) */
  logger?: Logger
}

/** The `jwt` service a function uses to hand out a bearer token for its session. */
export interface JwtService {
  /**
   * A bearer token for the session of this call (the one just set by a login, or the one loaded).
   * `claims` are added to the token; the session's own claims (`sub`, `sid`, `iss`, `aud`, `exp`,
   * `iat`) cannot be overridden. Rejects with an `Error` when the call has no session.
   */
  sign(claims?: Record<string, unknown>): Promise<string>
}

/** @deprecated The answer of the deprecated `HTTPSessions.authenticate`; use `authenticator` and its `Authentication`. */
export interface HTTPAuthentication {
  readonly record: SessionRecord<UserSession>
  readonly via: 'cookie' | 'bearer'
}

export interface HTTPSessions {
  /** The protocol middleware: `createHTTPHandler({ middleware: [httpSessions.middleware] })`. */
  readonly middleware: PikkuMiddleware
  /**
   * A `jwt` service bound to one call's session, for the runner's `wireServices`:
   * `wireServices: (_services, wire) => ({ jwt: httpSessions.jwtFor(wire.session) })`.
   * Without a session it returns a placeholder for the app's singleton `services` (whose `sign`
   * rejects, explaining how to bind it), so `services` can satisfy a `jwt: JwtService` type.
   */
  jwtFor(session?: SessionState<UserSession>): JwtService
  /**
   * This strategy's credentials for other protocols (a WebSocket upgrade, an MCP request, the MCP
   * stdio server), read by the same code as the middleware. `{ header }` follows the middleware's
   * precedence: a bearer token, when one is offered and bearer tokens are on, is used exclusively
   * (`refused` when bad, even with a good cookie); otherwise the session cookie. `{ token }` is
   * verified as a bearer JWT (`none` when bearer tokens are off); the cookie's opaque token is not
   * accepted as a bare token. Found sessions are `stored`, with credential `'bearer'` or
   * `'cookie'`. Rejects with `ServiceUnavailableError` when the store is down. Performs no CSRF
   * check: where browsers apply no same-origin policy (WebSocket upgrades) check `Origin` whenever
   * one of `cookieNames` is sent.
   */
  readonly authenticator: SessionAuthenticator<UserSession>
  /**
   * @deprecated Use `authenticator.authenticate({ header })`. The stored session of raw request
   * headers, with the middleware's precedence; undefined when there is no valid credential.
   */
  authenticate(header: (name: string) => string | undefined): Promise<HTTPAuthentication | undefined>
  /**
   * @deprecated Use `authenticator.authenticate({ token })`. The stored session of one bearer
   * token; undefined when it is invalid, expired or revoked, or when bearer tokens are off.
   */
  authenticateToken(token: string): Promise<SessionRecord<UserSession> | undefined>
  /** The session cookie's name (with the `__Host-` prefix when enabled); undefined when cookies are off. */
  readonly cookieName: string | undefined
}

/**
 * Stored HTTP sessions: a session cookie and/or bearer JWTs, both naming a session kept in core's
 * store, so logout and "log out everywhere" end every credential at once.
 */
export function createHTTPSessions(options: HTTPSessionsOptions): HTTPSessions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createHTTPSessions needs an options object: { sessions: createSessionManager({ store }) }')
  }
  const sessions = options.sessions
  if (sessions === undefined || typeof sessions.loadByToken !== 'function' || typeof sessions.commit !== 'function') {
    throw new TypeError('createHTTPSessions needs { sessions }: a session manager from createSessionManager({ store }) in @pikku/core')
  }
  const logger = options.logger ?? createConsoleLogger()
  // Only values shaped like core's tokens are looked up: planted junk costs no hash or store read.
  const cookie = options.cookie === false ? undefined : resolveSessionCookie(options.cookie ?? {}, 'cookie', logger, isSessionTokenShape)
  const tokens =
    options.jwt === undefined || options.jwt === false
      ? undefined
      : createSignedTokens(options.jwt, 'jwt', sessions.clock, { audience: 'pikku-session', type: 'pikku-session+jwt' }, logger)
  if (cookie === undefined && tokens === undefined) {
    throw new TypeError('createHTTPSessions: with cookie: false, pass jwt: { secrets: [...] }, or no credential could carry a session')
  }
  if (cookie !== undefined) {
    // A token is always 43 characters; only a very long name or path could push the cookie over.
    const longest = cookie.serializedLength('x'.repeat(43), 400 * 24 * 3600)
    if (longest > COOKIE_SIZE_LIMIT) {
      throw new RangeError(`cookie: the session cookie would be ${longest} bytes, over the ${COOKIE_SIZE_LIMIT}-byte limit; shorten cookie.name or cookie.path`)
    }
  }
  const csrf = options.csrf === false ? undefined : resolveCsrfPolicy(options.csrf ?? {}, 'csrf')
  const noTokens = (): Error =>
    new Error('Bearer tokens are not configured: pass jwt: { secrets: [process.env.JWT_SECRET] } to createHTTPSessions')

  const credentials = createStoredSessionCredentials(sessions, cookie, tokens)
  const { fromHeaders, fromToken } = credentials

  const signFor = async (session: SessionState<UserSession>, claims: Record<string, unknown> | undefined): Promise<string> => {
    if (tokens === undefined) throw noTokens()
    const current = session.current
    const sid = session.sessionId
    if (current === undefined || sid === undefined) {
      throw new Error('jwt.sign() needs a stored session in this call: call session.set() first (log in), or sign only where a session was loaded')
    }
    assertOwnClaims(claims)
    return tokens.sign(current.userId, claims === undefined ? { sid } : { ...claims, sid })
  }

  const unboundJwt: JwtService = {
    sign: () =>
      Promise.reject(
        new Error('This jwt service is not bound to a call: add wireServices: (_services, wire) => ({ jwt: httpSessions.jwtFor(wire.session) }) to createRunner'),
      ),
  }

  const middleware = createStoredSessionMiddleware({ sessions, cookie, csrf, bearerTokens: tokens !== undefined, credentials })

  return {
    middleware,
    cookieName: cookie?.name,

    jwtFor(session) {
      if (session === undefined) return unboundJwt
      return { sign: (claims) => signFor(session, claims) }
    },

    authenticator: credentials.authenticator,

    async authenticate(header) {
      const found = await fromHeaders({ header })
      return found.outcome === 'stored' ? { record: found.record, via: found.credential as 'cookie' | 'bearer' } : undefined
    },

    async authenticateToken(token) {
      if (typeof token !== 'string') return undefined
      const found = await fromToken(token)
      return found.outcome === 'stored' ? found.record : undefined
    },
  }
}
