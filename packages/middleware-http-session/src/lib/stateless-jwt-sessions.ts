import {
  createConsoleLogger,
  systemClock,
  type Authentication,
  type Clock,
  type Logger,
  type PikkuMiddleware,
  type SessionAuthenticator,
  type SessionLifecycleListener,
  type UserSession,
} from '@pikku/core'
import { type SessionState } from '@pikku/core/protocol'
// For the `wire.http` field that @pikku/http declares on core's PikkuWire.
import type {} from '@pikku/http'
import { BEARER_CHALLENGE, INVALID_TOKEN_CHALLENGE, isUnauthorized, readBearerToken } from './bearer-header.js'
import { NO_CREDENTIAL, readCredentialInput, refusal, type HeaderSource, type TransientWith } from './credential-input.js'
import type { JwtService } from './http-sessions.js'
import { refusedEarlier } from './refused-credentials.js'
import { statelessRefusalReporter } from './stateless-refusals.js'
import { assertOwnClaims, createSignedTokens, type JwtOptions } from './signed-tokens.js'

export interface StatelessJwtSessionsOptions extends JwtOptions {
  /**
   * The longest a session lasts after login, in seconds, however often its token is reissued.
   * @default 604_800 (7 days)
   */
  maxLifetime?: number
  /**
   * Response header carrying a fresh token when the call changed the session, or when the
   * presented token is past half its lifetime. Clients replace their token with it. Behind CORS,
   * list it in `Access-Control-Expose-Headers`.
   * @default 'x-session-token'
   */
  reissueHeader?: string
  /** @default Date.now */
  clock?: Clock
  /** Where the `secure: false` warning and (at debug level) credential rejection reasons go. @default createConsoleLogger() (debug off) */
  logger?: Logger
  /**
   * Receives a `refused` session event (credential `'bearer'`, reason `'malformed'`, `'expired'` or
   * `'invalid'`, the client's address) for each request whose token this middleware rejects, as
   * `createSessionManager({ onEvent })` does for stored sessions: after the response, a throw
   * logged. There is no other event: no store, so no login or logout the server sees.
   * @default undefined (nothing is built)
   */
  onEvent?: SessionLifecycleListener
}

export interface StatelessJwtSessions {
  /** The protocol middleware: `createHTTPHandler({ middleware: [statelessSessions.middleware] })`. */
  readonly middleware: PikkuMiddleware
  /**
   * A `jwt` service bound to one call's session: `sign()` returns a token carrying the session.
   * Without a session: a placeholder for the singleton `services`, whose `sign` rejects.
   */
  jwtFor(session?: SessionState<UserSession>): JwtService
  /**
   * This strategy's tokens for other protocols (a WebSocket upgrade, an MCP request), read by the
   * same code as the middleware: `{ header }` reads `Authorization: Bearer`, `{ token }` verifies
   * a bare token. A valid token is a `transient` session (credential `'bearer'`): no store backs
   * it, so nothing persists what a call changes.
   */
  readonly authenticator: SessionAuthenticator<UserSession>
  /** @deprecated Use `authenticator.authenticate({ token })`. The session a token carries, or undefined. */
  authenticateToken(token: string): Promise<UserSession | undefined>
  /** @deprecated Use `authenticator.authenticate({ header })`. The session of an `Authorization: Bearer` header, or undefined. */
  authenticate(header: (name: string) => string | undefined): Promise<UserSession | undefined>
}

interface LoadedToken {
  readonly authTime: number
  readonly issuedAt: number
}

/** A verified token: a transient session, plus the times the middleware needs to reissue it. */
type VerifiedToken = TransientWith<LoadedToken>

const MALFORMED = refusal('bearer', 'malformed')
const EXPIRED = refusal('bearer', 'expired')
const INVALID = refusal('bearer', 'invalid')
const REFUSALS = { malformed: MALFORMED, expired: EXPIRED, invalid: INVALID } as const

/**
 * Purely stateless JWT sessions: the session data travels in the token and no store is consulted.
 * An explicit opt-in with a real cost: a token cannot be revoked before it expires, so logout only
 * works on clients that discard their token. Prefer `createHTTPSessions` with `jwt` (tokens that
 * reference a stored session) unless a store is truly out of reach.
 */
export function createStatelessJwtSessions(options: StatelessJwtSessionsOptions): StatelessJwtSessions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createStatelessJwtSessions needs options: { secrets: [process.env.JWT_SECRET] }')
  }
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createConsoleLogger()
  const tokens = createSignedTokens(options, 'createStatelessJwtSessions', clock, { audience: 'pikku-stateless-session', type: 'pikku-stateless+jwt' }, logger)
  const maxLifetime = options.maxLifetime ?? 7 * 24 * 3600
  if (!Number.isInteger(maxLifetime) || maxLifetime <= 0) {
    throw new RangeError(`createStatelessJwtSessions: maxLifetime must be a positive whole number of seconds; got ${maxLifetime}`)
  }
  const reissueHeader = (options.reissueHeader ?? 'x-session-token').toLowerCase()
  if (!/^[a-z0-9-]+$/.test(reissueHeader)) {
    throw new TypeError(`createStatelessJwtSessions: reissueHeader must be a header name; got ${JSON.stringify(options.reissueHeader)}`)
  }
  const reportRefused = statelessRefusalReporter('createStatelessJwtSessions', options.onEvent, logger, clock)
  // What the middleware loaded for a call, so a reissued token keeps the original login time.
  const loadedBy = new WeakMap<SessionState<UserSession>, LoadedToken>()

  const verify = async (token: string): Promise<VerifiedToken | Authentication<never>> => {
    const claims = await tokens.verify(token)
    if (typeof claims === 'string') return REFUSALS[claims]
    const session = claims['ses']
    const authTime = claims['auth_time']
    if (typeof session !== 'object' || session === null || Array.isArray(session)) return INVALID
    if (typeof authTime !== 'number' || (session as { userId?: unknown }).userId !== claims.sub) return INVALID
    // Checked here as well as through `exp`, so shortening maxLifetime takes effect for tokens
    // issued under the old value.
    if (Math.floor(clock() / 1000) >= authTime + maxLifetime) return EXPIRED
    return { outcome: 'transient', credential: 'bearer', session: session as UserSession, loaded: { authTime, issuedAt: claims.iat } }
  }

  const fromHeaders = (source: HeaderSource): Promise<VerifiedToken | Authentication<never>> => {
    const authorization = source.header('authorization')
    const token = authorization === undefined ? undefined : readBearerToken(authorization)
    return token === undefined ? NO_CREDENTIAL : verify(token)
  }

  const authenticator: SessionAuthenticator<UserSession> = {
    cookieNames: [],
    authenticate: (input) => readCredentialInput<UserSession>(input, fromHeaders, verify),
  }

  const issue = (session: UserSession, authTime: number, claims: Record<string, unknown> = {}): Promise<string> =>
    tokens.sign(session.userId, { ...claims, ses: session, auth_time: authTime }, authTime + maxLifetime)

  /** The login time a token for this call's session keeps: the loaded one unless the call logged in. */
  const authTimeFor = (state: SessionState<UserSession>): number => {
    const loaded = loadedBy.get(state)
    return loaded !== undefined && state.pending === undefined ? loaded.authTime : Math.floor(clock() / 1000)
  }

  const middleware: PikkuMiddleware = async (_services, wire, next) => {
    const http = wire.http
    const state = wire.session
    if (http === undefined || state.current !== undefined || state.baseline !== undefined) {
      await next()
      return
    }
    // A credential an earlier authenticator middleware refused is used exclusively.
    if (refusedEarlier(state) !== undefined) {
      await next()
      return
    }
    const found = await fromHeaders(http)
    let loaded: LoadedToken | undefined
    if (found.outcome !== 'none') http.setHeader('cache-control', 'no-store')
    if (found.outcome === 'transient') {
      state.resumeTransient(found.session)
      loaded = (found as VerifiedToken).loaded
      loadedBy.set(state, loaded)
    } else if (found.outcome === 'refused') {
      reportRefused?.(wire, found)
    }
    try {
      await next()
    } catch (error) {
      if (isUnauthorized(error)) {
        http.setHeader('www-authenticate', found.outcome === 'refused' ? INVALID_TOKEN_CHALLENGE : BEARER_CHALLENGE)
      }
      throw error
    }
    const current = state.current
    if (current === undefined) return // no session, or cleared: nothing server-side to revoke
    const due = loaded !== undefined && Math.floor(clock() / 1000) - loaded.issuedAt >= tokens.expiresIn / 2
    if (state.changed || due) {
      http.setHeader('cache-control', 'no-store')
      http.setHeader(reissueHeader, await issue(current, authTimeFor(state)))
    }
  }

  return {
    middleware,

    jwtFor(session) {
      if (session === undefined) {
        return { sign: () => Promise.reject(new Error('This jwt service is not bound to a call: add wireServices: (_services, wire) => ({ jwt: statelessSessions.jwtFor(wire.session) }) to createRunner')) }
      }
      return {
        async sign(claims) {
          assertOwnClaims(claims)
          const current = session.current
          if (current === undefined) throw new Error('jwt.sign() needs a session in this call: call session.set() first (log in)')
          return issue(current, authTimeFor(session), claims)
        },
      }
    },

    authenticator,

    async authenticateToken(token) {
      if (typeof token !== 'string') return undefined
      const found = await verify(token)
      return found.outcome === 'transient' ? found.session : undefined
    },

    async authenticate(header) {
      const found = await fromHeaders({ header })
      return found.outcome === 'transient' ? found.session : undefined
    },
  }
}
