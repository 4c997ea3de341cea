import { type PikkuMiddleware, type SessionManager, type SessionRecord, type UserSession } from '@pikku/core'
import { hashSessionToken, type SessionLoadOptions } from '@pikku/core/protocol'
// For the `wire.http` field that @pikku/http declares on core's PikkuWire.
import { httpSessionMetadata } from '@pikku/http'
import { BEARER_CHALLENGE, INVALID_TOKEN_CHALLENGE, isUnauthorized } from './bearer-header.js'
import { someValue, type CookieValues } from './cookie-header.js'
import { UNSAFE_METHODS, type CsrfPolicy } from './csrf.js'
import { refusedEarlier } from './refused-credentials.js'
import type { SessionCookie } from './session-cookie.js'
import { isBearerOffer, type StoredSessionCredentials } from './stored-session-credentials.js'

export interface StoredSessionMiddlewareParts {
  readonly sessions: SessionManager
  /** Undefined when cookies are off. */
  readonly cookie: SessionCookie | undefined
  /** Undefined when the CSRF defence is off. */
  readonly csrf: CsrfPolicy | undefined
  /** Whether bearer tokens are on (401s then carry a `Bearer` challenge). */
  readonly bearerTokens: boolean
  /** The strategy's credential reader, the one its authenticator uses. */
  readonly credentials: StoredSessionCredentials
}

/**
 * The protocol middleware of `createHTTPSessions`: loads the session the request's credential
 * names, applies the CSRF defence, and after the call persists the session (before the response)
 * and writes the cookie that follows from the commit.
 */
export function createStoredSessionMiddleware(parts: StoredSessionMiddlewareParts): PikkuMiddleware {
  const { sessions, cookie, csrf, bearerTokens, credentials } = parts

  return async (_services, wire, next) => {
    const http = wire.http
    const state = wire.session
    // For session.list() and session.revoke() in the function.
    state.useInventory(sessions)
    // Not an HTTP call, or an earlier middleware already settled the session: nothing to load.
    if (http === undefined || state.current !== undefined || state.baseline !== undefined) {
      await next()
      return
    }
    // What the request offered: 'cookie', 'bearer', or the kind of a credential an earlier
    // authenticator middleware refused (used exclusively, like a bearer token: the cookie is not
    // read). No `Authentication` is built for a cookie, the usual request.
    let offered: string | undefined
    let record: SessionRecord<UserSession> | undefined
    const earlier = refusedEarlier(state)
    if (earlier !== undefined) {
      offered = earlier.credential
    } else {
      const offer = credentials.offered(http)
      if (offer === undefined) {
        offered = undefined
      } else if (isBearerOffer(offer)) {
        offered = 'bearer'
        const found = await credentials.verifyBearer(offer.bearer, loadOptions(wire.protocol))
        if (found.outcome === 'stored') record = found.record
        else if (found.outcome === 'refused') sessions.refused({ credential: 'bearer', reason: found.reason, protocol: wire.protocol, address: wire.client?.address })
      } else {
        offered = 'cookie'
        // A session held in this process is taken without a promise; any other goes to the store.
        record = credentials.loadCookieNow(offer) ?? (await credentials.loadCookie(offer, loadOptions(wire.protocol)))
        if (record === undefined) sessions.refused({ credential: 'cookie', reason: 'unknown-session', protocol: wire.protocol, address: wire.client?.address })
      }
    }
    // How the session was loaded: 'cookie' or 'bearer'.
    let via: string | undefined
    // Kept for a bearer logout, to tell whether the cookie names the same session.
    let bearerSessionId: string | undefined
    if (record !== undefined) {
      state.resume(record)
      via = offered
      if (via === 'bearer') bearerSessionId = record.id
    }
    // A credential other than the cookie was offered (a bearer token, valid or not): the request
    // is a non-browser client's, whose cookie is neither read nor set.
    const otherCredential = offered !== undefined && offered !== 'cookie'
    if (offered !== undefined) http.setHeader('cache-control', 'no-store')

    try {
      if (via === 'cookie' && csrf !== undefined && UNSAFE_METHODS.has(http.method)) csrf.assertSameSite(http)
      await next()
      // A change to a cookie session is stored only for a request from an allowed site, whatever
      // the method: SameSite=Lax sends the cookie on a cross-site link (GET), so a GET that logs in
      // or out would otherwise be open to another site. Checked here, before anything is stored.
      // A login is checked unless checkLogin is off (login CSRF: a hostile page logging the
      // visitor into an account of its choosing); a change to the cookie's session unless the
      // unsafe method was checked before the call. A bearer request never gets a cookie (below),
      // so its changes need no check: a page cannot add an Authorization header across sites.
      if (state.changed && csrf !== undefined && cookie !== undefined && !otherCredential) {
        if (state.pending !== undefined ? csrf.checkLogin : via === 'cookie' && !UNSAFE_METHODS.has(http.method)) csrf.assertSameSite(http)
      }
    } catch (error) {
      if (bearerTokens && isUnauthorized(error)) {
        http.setHeader('www-authenticate', offered === 'bearer' && via === undefined ? INVALID_TOKEN_CHALLENGE : BEARER_CHALLENGE)
      }
      throw error
    }

    // A login answered with the cookie (and perhaps a bearer token from jwt.sign(): it cannot know
    // which one its client keeps) is recorded as `cookie`; the first request that brings the bearer
    // token records `bearer` instead, once. Never the other way: a bearer client does not get a cookie.
    const used = via === 'bearer' && record!.metadata?.credential === 'cookie' ? BEARER_USED : undefined
    // Nothing loaded and nothing set: nothing to persist (the common anonymous request). A
    // read-only call with no renewal due skips the commit too.
    if ((via === undefined && !state.changed) || !sessions.needsCommit(state, used)) return
    // Persist before the response is written: a client acting on the response finds the session.
    // A login records who the client is (built only then: reads and changes parse no User-Agent).
    const result = await sessions.commit(
      state,
      state.pending === undefined
        ? used
        : { metadata: httpSessionMetadata((name) => http.header(name), cookie !== undefined && !otherCredential ? 'cookie' : 'bearer', wire.client?.address) },
    )
    switch (result.kind) {
      case 'created':
        if (offered === undefined) http.setHeader('cache-control', 'no-store')
        // A request that offers a bearer token is a bearer client: the cookie is ignored on the
        // way in, so none is set on the way out (the login's token is in the response). Setting
        // one would let any Authorization header, valid or not, skip the login CSRF check.
        if (cookie !== undefined && !otherCredential) {
          // Max-Age is the absolute timeout: the cookie never outlives the longest the session can.
          const maxAge = cookie.persistent ? Math.floor((result.absoluteExpiresAt - result.record.createdAt) / 1000) : undefined
          http.appendHeader('set-cookie', cookie.serialize(result.token, maxAge))
        }
        break
      case 'cleared':
      case 'revoked':
        if (cookie !== undefined && (via === 'cookie' || cookieNamesSession(cookie.read(http.header('cookie')), bearerSessionId))) {
          http.appendHeader('set-cookie', cookie.expired)
          // Only when the cookie belonged to this session: it clears every cookie of the origin.
          if (result.kind === 'cleared' && cookie.clearSiteData) http.setHeader('clear-site-data', '"cookies"')
        }
        break
      default:
        // 'unchanged', 'renewed', 'updated': the cookie holds only the token, which did not change.
        break
    }
  }
}

const BEARER_USED = Object.freeze({ credential: 'bearer' })

// One options object per protocol, so telling the manager the call's protocol allocates nothing per request.
const LOAD_OPTIONS = new Map<string, SessionLoadOptions>()
function loadOptions(protocol: string): SessionLoadOptions {
  let options = LOAD_OPTIONS.get(protocol)
  if (options === undefined) {
    options = Object.freeze({ protocol })
    LOAD_OPTIONS.set(protocol, options)
  }
  return options
}

/** Whether a cookie token names the session a bearer token loaded (only checked at logout). */
function cookieNamesSession(cookieTokens: CookieValues | undefined, sessionId: string | undefined): boolean {
  return sessionId !== undefined && someValue(cookieTokens, (token) => hashSessionToken(token) === sessionId)
}
