import type { Authentication, PikkuMiddleware, SessionAuthenticator, SessionManager, UserSession } from '@pikku/core'
// For the `wire.http` field that @pikku/http declares on core's PikkuWire.
import type {} from '@pikku/http'
import { isUnauthorized } from './bearer-header.js'
import { markRefused, refusedEarlier } from './refused-credentials.js'

export interface AuthenticatorMiddlewareOptions {
  /**
   * The session manager that stores what a call changes in a *stored* session the authenticator
   * found (an update, a logout, the renewal of its idle timer). Needed only by authenticators that
   * answer `stored`; such an answer without it fails the request with an error saying to pass it.
   * @default undefined (transient sessions only)
   */
  sessions?: SessionManager
  /**
   * A `WWW-Authenticate` challenge added to every 401 (RFC 9110 §11.6.1), such as `'ApiKey'`.
   * Added besides the challenge of a strategy after this one (`Bearer`), never instead of it.
   * @default undefined (none)
   */
  challenge?: string
}

/**
 * Puts any `SessionAuthenticator` (API keys, an OAuth server's access tokens, a custom header) in
 * front of HTTP routes: `createHTTPHandler({ middleware: [createAuthenticatorMiddleware(apiKeys),
 * httpSessions.middleware] })`. Credentials are tried in the order of the list, as
 * `firstAuthenticated` tries authenticators: `none` leaves the call to the next middleware; a
 * `transient` or `stored` session is the call's session and the strategies after it read nothing;
 * a `refused` credential makes the call sessionless, and the strategies of this package after it
 * do not fall back to their own credential (a bad API key never acts as the browser's cookie) and
 * set no cookie, as for a bearer token. A login is not this middleware's business: it has no way
 * to hand a client a new credential, so logins go to a strategy after it (or the login function
 * returns the credential itself, like `jwt.sign()`).
 *
 * Only for credentials a client sends on purpose (headers): an authenticator that reads cookies
 * is refused, because cookies need their strategy's CSRF defence and `Set-Cookie` handling; put
 * that strategy's own middleware in the list instead.
 */
export function createAuthenticatorMiddleware(
  authenticator: SessionAuthenticator<UserSession>,
  options: AuthenticatorMiddlewareOptions = {},
): PikkuMiddleware {
  const where = 'createAuthenticatorMiddleware'
  if (authenticator === null || typeof authenticator !== 'object' || typeof authenticator.authenticate !== 'function') {
    throw new TypeError(`${where} needs a SessionAuthenticator (an object with authenticate(input)), such as httpSessions.authenticator or your own`)
  }
  const cookieNames = authenticator.cookieNames ?? []
  if (cookieNames.length > 0) {
    throw new TypeError(
      `${where}: this authenticator reads cookies (${cookieNames.join(', ')}), which need the CSRF defence and Set-Cookie handling of their ` +
        'own strategy: put that strategy\'s middleware (httpSessions.middleware) in the list after this one, and pass only the other authenticators here',
    )
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where} takes an optional options object such as { sessions, challenge: 'ApiKey' }`)
  }
  const sessions = options.sessions
  if (sessions !== undefined && (typeof sessions.commit !== 'function' || typeof sessions.needsCommit !== 'function')) {
    throw new TypeError(`${where}: sessions must be a session manager from createSessionManager({ store }) in @pikku/core`)
  }
  const challenge = options.challenge
  // A challenge is a header value: a line break in it would split the response's headers.
  if (challenge !== undefined && (typeof challenge !== 'string' || challenge.trim().length === 0 || /[\r\n\0]/.test(challenge))) {
    throw new TypeError(`${where}: challenge must be a WWW-Authenticate value such as 'ApiKey'; got ${JSON.stringify(challenge)}`)
  }

  return async (_services, wire, next) => {
    const http = wire.http
    const state = wire.session
    // Not an HTTP call, or an earlier middleware already settled the session (or refused a credential).
    if (http === undefined || state.current !== undefined || state.baseline !== undefined || refusedEarlier(state) !== undefined) {
      await next()
      return
    }
    // A fresh input rather than `http` itself: an authenticator may take `header` off its input.
    const found = await authenticator.authenticate({ header: (name) => http.header(name) })
    assertAnswer(found)
    // The response depends on a credential: no shared cache may keep it.
    if (found.outcome !== 'none') http.setHeader('cache-control', 'no-store')
    let stored: SessionManager | undefined
    switch (found.outcome) {
      case 'refused':
        markRefused(state, found)
        break
      case 'transient':
        state.resumeTransient(found.session)
        break
      case 'stored':
        if (sessions === undefined) {
          throw new TypeError(`${where}: the authenticator found a stored session; pass { sessions } (the session manager) so its changes and renewals are stored`)
        }
        state.resume(found.record)
        stored = sessions
        break
      default:
        break
    }
    try {
      await next()
    } catch (error) {
      if (challenge !== undefined && isUnauthorized(error)) http.appendHeader('www-authenticate', challenge)
      throw error
    }
    // Persist before the response is written, as every strategy does. A transient session has
    // nothing to persist, and a login's new session is for a strategy to hand out.
    if (stored !== undefined && stored.needsCommit(state)) await stored.commit(state)
  }

  /** Throws for an answer that is not an `Authentication` this middleware can act on: a bug in the authenticator. */
  function assertAnswer(found: Authentication<UserSession>): void {
    if (found === null || typeof found !== 'object' || !OUTCOMES.has(found.outcome)) {
      const outcome = found === null || typeof found !== 'object' ? String(found) : JSON.stringify((found as { outcome?: unknown }).outcome)
      throw new TypeError(`${where}: the authenticator answered ${outcome}; expected an outcome of none, refused, stored or transient`)
    }
    if (found.outcome !== 'none' && found.credential === 'cookie') {
      throw new TypeError(`${where}: the authenticator answered a cookie credential but declares no cookieNames; cookies need their strategy's middleware`)
    }
  }
}

const OUTCOMES: ReadonlySet<string> = new Set(['none', 'refused', 'stored', 'transient'])
