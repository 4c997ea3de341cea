import {
  noCredential,
  type Authentication,
  type SessionAuthenticator,
  type SessionManager,
  type SessionRecord,
  type UserSession,
} from '@pikku/core'
import { isSessionTokenShape, syncTwinOf, type SessionLoadOptions } from '@pikku/core/protocol'
import { readBearerToken } from './bearer-header.js'
import { firstVerified, someValue, type CookieValues } from './cookie-header.js'
import { NO_CREDENTIAL, readCredentialInput, refusal, type HeaderSource } from './credential-input.js'
import type { SessionCookie } from './session-cookie.js'
import type { SignedTokens } from './signed-tokens.js'

/**
 * The credential a request's headers offer, by the strategy's precedence; nothing verified yet:
 * `{ bearer }` for a bearer token, or the session cookie's values as `readCookieValues` gives them
 * (so the usual request, with a cookie, allocates nothing here). Kept apart from verification so
 * the middleware awaits the store read itself, one promise layer fewer on the hottest path.
 */
export type OfferedCredential = { readonly bearer: string } | CookieValues

/** Whether an offered credential is a bearer token (rather than the cookie's values). */
export function isBearerOffer(offer: OfferedCredential): offer is { readonly bearer: string } {
  return typeof offer === 'object' && !Array.isArray(offer)
}

/** How `createHTTPSessions` reads its credentials: shared by its middleware and its authenticator. */
export interface StoredSessionCredentials {
  readonly authenticator: SessionAuthenticator<UserSession>
  /**
   * The credential in request headers, with the strategy's precedence: a bearer token, when bearer
   * tokens are on and one is offered, is used exclusively (a bad one is refused, the cookie is not
   * read); otherwise the session cookie. Undefined when neither is offered.
   */
  offered(source: HeaderSource): OfferedCredential | undefined
  /**
   * The answer for a bearer token. Rejects with `ServiceUnavailableError` when the store is down.
   * `load` tells the session manager the call's protocol.
   */
  verifyBearer(token: string, load?: SessionLoadOptions): Promise<Authentication<UserSession>>
  /**
   * `loadCookie` without waiting, for a single cookie value whose session the store holds in this
   * process (the memory store, a read-cache hit): the record, or undefined when it is not known
   * now, and then `loadCookie` decides (undefined is not a refusal).
   */
  loadCookieNow(values: CookieValues): SessionRecord<UserSession> | undefined
  /** The first of the cookie's values that names a live session. Rejects with `ServiceUnavailableError` when the store is down. */
  loadCookie(values: CookieValues, load?: SessionLoadOptions): Promise<SessionRecord<UserSession> | undefined>
  /** The answer for a cookie, given what `loadCookie` found. */
  cookieAnswer(values: CookieValues, record: SessionRecord<UserSession> | undefined): Authentication<UserSession>
  /** `offered`, then verified: what the authenticator answers for headers. */
  fromHeaders(source: HeaderSource): Promise<Authentication<UserSession>>
  /** A bare token, verified as a bearer JWT; `none` when bearer tokens are off. */
  fromToken(token: string): Promise<Authentication<UserSession>>
}

const BEARER_MALFORMED = refusal('bearer', 'malformed')
const BEARER_EXPIRED = refusal('bearer', 'expired')
const BEARER_INVALID = refusal('bearer', 'invalid')
const BEARER_SUBJECT_MISMATCH = refusal('bearer', 'subject-mismatch')
const BEARER_UNKNOWN_SESSION = refusal('bearer', 'unknown-session')
const COOKIE_MALFORMED = refusal('cookie', 'malformed')
const COOKIE_UNKNOWN_SESSION = refusal('cookie', 'unknown-session')
const BEARER_REFUSALS = { malformed: BEARER_MALFORMED, expired: BEARER_EXPIRED, invalid: BEARER_INVALID } as const
const isLoaded = (record: SessionRecord<UserSession> | undefined): boolean => record !== undefined

export function createStoredSessionCredentials(
  sessions: SessionManager,
  cookie: SessionCookie | undefined,
  tokens: SignedTokens | undefined,
): StoredSessionCredentials {
  const loadByToken = (token: string): Promise<SessionRecord<UserSession> | undefined> => sessions.loadByToken(token)
  const loadByTokenOver = (load: SessionLoadOptions) => (token: string): Promise<SessionRecord<UserSession> | undefined> => sessions.loadByToken(token, load)

  /** The stored session a bearer token names, if the token is valid and the session is live. */
  const verifyBearer = async (token: string, load?: SessionLoadOptions): Promise<Authentication<UserSession>> => {
    const claims = await tokens!.verify(token)
    if (typeof claims === 'string') return BEARER_REFUSALS[claims]
    const sid = claims['sid']
    if (typeof sid !== 'string' || sid.length === 0 || sid.length > 128) return BEARER_INVALID
    // Not swallowed like a bad token: a store outage must surface as 503, never as "no session".
    const record = await sessions.loadById(sid, load)
    if (record === undefined) return BEARER_UNKNOWN_SESSION
    // The subject must be the session's owner, so a token cannot borrow another user's session.
    if (record.userId !== claims.sub) return BEARER_SUBJECT_MISMATCH
    return { outcome: 'stored', credential: 'bearer', record }
  }

  // Several cookies of the name (one planted by a sibling subdomain, say): the first that names a
  // live session is used, and none that does not.
  const loadCookie = (values: CookieValues, load?: SessionLoadOptions): Promise<SessionRecord<UserSession> | undefined> =>
    typeof values === 'string' ? sessions.loadByToken(values, load) : firstVerified(values, load === undefined ? loadByToken : loadByTokenOver(load), isLoaded)

  // Present when the manager's loadByToken has one (a store holding records in this process), and
  // only its own: a manager wrapper that replaces loadByToken (session-audit's tracing) has none.
  const loadByTokenNow = syncTwinOf(sessions.loadByToken)
  const loadCookieNow = (values: CookieValues): SessionRecord<UserSession> | undefined =>
    loadByTokenNow !== undefined && typeof values === 'string' ? loadByTokenNow(values) : undefined

  const cookieAnswer = (values: CookieValues, record: SessionRecord<UserSession> | undefined): Authentication<UserSession> => {
    if (record !== undefined) return { outcome: 'stored', credential: 'cookie', record }
    return someValue(values, isSessionTokenShape) ? COOKIE_UNKNOWN_SESSION : COOKIE_MALFORMED
  }

  const offered = (source: HeaderSource): OfferedCredential | undefined => {
    if (tokens !== undefined) {
      const authorization = source.header('authorization')
      // Other schemes (Basic, API keys for other middleware) are none of our business.
      const token = authorization === undefined ? undefined : readBearerToken(authorization)
      // A presented bearer token is used exclusively: if it is bad, the request has no session
      // even when it also carries a good cookie, so a client never silently acts as someone else.
      if (token !== undefined) return { bearer: token }
    }
    if (cookie !== undefined) {
      const values = cookie.read(source.header('cookie'))
      if (values !== undefined) return values
    }
    return undefined
  }

  const fromHeaders = async (source: HeaderSource): Promise<Authentication<UserSession>> => {
    const offer = offered(source)
    if (offer === undefined) return noCredential()
    if (isBearerOffer(offer)) return verifyBearer(offer.bearer)
    return cookieAnswer(offer, await loadCookie(offer))
  }

  const fromToken = (token: string): Promise<Authentication<UserSession>> =>
    // Without bearer tokens configured this strategy reads no bare token: `none`, so a client
    // offering one (in a WebSocket subprotocol, say) cannot cause a failure on a cookie-only app,
    // and `firstAuthenticated` can hand it to another authenticator.
    tokens === undefined ? NO_CREDENTIAL : verifyBearer(token)

  return {
    offered,
    verifyBearer,
    loadCookieNow,
    loadCookie,
    cookieAnswer,
    fromHeaders,
    fromToken,
    authenticator: {
      cookieNames: cookie === undefined ? [] : [cookie.name],
      authenticate: (input) => readCredentialInput(input, fromHeaders, fromToken),
    },
  }
}
