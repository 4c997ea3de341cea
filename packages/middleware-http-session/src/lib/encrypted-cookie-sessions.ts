import {
  createConsoleLogger,
  systemClock,
  type Authentication,
  type Clock,
  type Logger,
  type PikkuMiddleware,
  type SessionAuthenticator,
  type SessionLifecycleListener,
  type SessionLifetimeOptions,
  type UserSession,
} from '@pikku/core'
import { resolveSessionLifetime, USER_SESSION_DEFAULTS } from '@pikku/core/protocol'
import type { HTTPWireInfo } from '@pikku/http'
import { EncryptJWT, jwtDecrypt, type JWTDecryptOptions } from 'jose'
import { firstVerified } from './cookie-header.js'
import { NO_CREDENTIAL, readCredentialInput, refusal, type HeaderSource, type TransientWith } from './credential-input.js'
import { resolveCsrfPolicy, UNSAFE_METHODS, type CsrfOptions } from './csrf.js'
import { refusedEarlier } from './refused-credentials.js'
import { assertSecrets, deriveKeys } from './secrets.js'
import { statelessRefusalReporter } from './stateless-refusals.js'
import { COOKIE_SIZE_LIMIT, resolveSessionCookie, type CookieSessionOptions } from './session-cookie.js'

/**
 * `idleTimeout`, `absoluteTimeout` and `renewalInterval` (ms) are core's session lifetime options,
 * with the same defaults as stored sessions: 24 hours, 7 days, and 5 minutes or a tenth of
 * `idleTimeout` when that is shorter. A read-only request re-encrypts the cookie (moving the idle
 * timer) only once the renewal interval has passed.
 */
export interface EncryptedCookieSessionsOptions extends SessionLifetimeOptions {
  /**
   * Secrets, newest first: the first encrypts, every one decrypts. Each at least 32 bytes
   * (`openssl rand -base64 32`). A cookie encrypted with a removed secret is "no session".
   */
  secrets: readonly string[]
  /** Cookie attributes; the same secure defaults as stored sessions. @default {} */
  cookie?: CookieSessionOptions
  /**
   * CSRF defence for cookie-authenticated unsafe methods, and for any call that would write a
   * change to the cookie (login, update, logout), whatever its method.
   * @default {} (on, own origin only)
   */
  csrf?: CsrfOptions | false
  /** @default Date.now */
  clock?: Clock
  /** Where the `secure: false` warning and (at debug level) credential rejection reasons go. @default createConsoleLogger() (debug off) */
  logger?: Logger
  /**
   * Receives a `refused` session event (credential `'cookie'`, reason `'malformed'`, `'expired'` or
   * `'invalid'`: tampered, or encrypted with a removed secret; the client's address) for each
   * request whose cookie this middleware rejects, as `createSessionManager({ onEvent })` does for
   * stored sessions: after the response, a throw logged. There is no other event: no store.
   * @default undefined (nothing is built)
   */
  onEvent?: SessionLifecycleListener
}

export interface EncryptedCookieSessions {
  /** The protocol middleware: `createHTTPHandler({ middleware: [cookieSessions.middleware] })`. */
  readonly middleware: PikkuMiddleware
  /** The cookie's name (with the `__Host-` prefix when enabled). */
  readonly cookieName: string
  /**
   * This strategy's cookie for other protocols (a WebSocket upgrade), read by the same code as the
   * middleware: `{ header }` reads the `Cookie` header; a bare `{ token }` is `none` (the cookie is
   * not a token a client hands over). A valid cookie is a `transient` session (credential
   * `'cookie'`); `cookieNames` names the cookie, so a WebSocket upgrade checks `Origin` when it is sent.
   */
  readonly authenticator: SessionAuthenticator<UserSession>
  /** @deprecated Use `authenticator.authenticate({ header })`. The session in a request's `Cookie` header, or undefined. */
  authenticate(header: (name: string) => string | undefined): Promise<UserSession | undefined>
}

interface Loaded {
  readonly createdAt: number
  readonly lastActiveAt: number
}

/** A decrypted cookie: a transient session, plus the times the middleware needs to renew it. */
type DecryptedCookie = TransientWith<Loaded>

const MALFORMED = refusal('cookie', 'malformed')
const EXPIRED = refusal('cookie', 'expired')
const INVALID = refusal('cookie', 'invalid')
const isDecrypted = (found: DecryptedCookie | Authentication<never>): boolean => found.outcome === 'transient'

const TYPE = 'pikku-session+jwe'
// JWE compact serialization, `dir` (empty encrypted key): header..iv.ciphertext.tag, base64url.
const JWE_SHAPE = /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const isJweShape = (value: string): boolean => JWE_SHAPE.test(value)

/**
 * Stateless sessions in an encrypted cookie (JWE, `dir` + `A256GCM`): the whole session travels
 * in the cookie, confidential and tamper-proof, with no store. The trade-off: logout expires the
 * cookie in the browser, but a copy taken earlier stays valid until its idle or absolute timeout,
 * because there is no server-side record to delete. The session must fit in 4096 bytes.
 */
export function createEncryptedCookieSessions(options: EncryptedCookieSessionsOptions): EncryptedCookieSessions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createEncryptedCookieSessions needs options: { secrets: [process.env.COOKIE_SECRET] }')
  }
  const where = 'createEncryptedCookieSessions'
  assertSecrets(options.secrets, 'secrets')
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createConsoleLogger()
  const reportRefused = statelessRefusalReporter(where, options.onEvent, logger, clock)
  // Core's lifetime rules, with the defaults of stored user sessions: the two kinds of session
  // cannot drift apart in how long they last or when they renew.
  const lifetime = resolveSessionLifetime(
    { idleTimeout: options.idleTimeout, absoluteTimeout: options.absoluteTimeout, renewalInterval: options.renewalInterval },
    USER_SESSION_DEFAULTS,
    `${where}: `,
  )
  // Only values shaped like this strategy's cookies are decrypted: planted junk costs nothing.
  const cookie = resolveSessionCookie(options.cookie ?? {}, 'cookie', logger, isJweShape)
  const csrf = options.csrf === false ? undefined : resolveCsrfPolicy(options.csrf ?? {}, 'csrf')
  const keys = deriveKeys(options.secrets, 'jwe dir A256GCM', 32)
  const encryptionKey = keys[0]!
  const decryptOptions: Omit<JWTDecryptOptions, 'currentDate'> = {
    keyManagementAlgorithms: ['dir'],
    contentEncryptionAlgorithms: ['A256GCM'],
    typ: TYPE,
    requiredClaims: ['exp'],
  }

  const decrypt = async (value: string): Promise<DecryptedCookie | Authentication<never>> => {
    const now = clock()
    let payload: Record<string, unknown>
    try {
      ;({ payload } = await jwtDecrypt(
        value,
        (header) => {
          const key = keys.find((candidate) => candidate.kid === header.kid)
          if (key === undefined) throw new Error('unknown key id')
          return key.bytes
        },
        { ...decryptOptions, currentDate: new Date(now) },
      ))
    } catch (error) {
      const code = (error as { code?: string }).code
      logger.debug('session cookie rejected', { reason: code ?? 'invalid' })
      return code === 'ERR_JWT_EXPIRED' ? EXPIRED : code === 'ERR_JWE_INVALID' ? MALFORMED : INVALID
    }
    const session = payload['ses']
    const createdAt = payload['ct']
    const lastActiveAt = payload['lat']
    if (typeof session !== 'object' || session === null || Array.isArray(session)) return INVALID
    if (typeof (session as { userId?: unknown }).userId !== 'string') return INVALID
    if (typeof createdAt !== 'number' || typeof lastActiveAt !== 'number') return INVALID
    // The timeouts are checked here, not only through `exp`, so shortening them in configuration
    // takes effect for cookies issued under the old values.
    if (lifetime.isExpired({ createdAt, lastActiveAt }, now)) return EXPIRED
    return { outcome: 'transient', credential: 'cookie', session: session as UserSession, loaded: { createdAt, lastActiveAt } }
  }

  const fromHeaders = (source: HeaderSource): Promise<DecryptedCookie | Authentication<never>> => {
    const values = cookie.read(source.header('cookie'))
    // Several cookies of the name (one planted by a sibling subdomain, say): the first that
    // decrypts and is within its timeouts is used, and none that is not.
    return values === undefined ? NO_CREDENTIAL : firstVerified(values, decrypt, isDecrypted)
  }

  const authenticator: SessionAuthenticator<UserSession> = {
    cookieNames: [cookie.name],
    authenticate: (input) => readCredentialInput<UserSession>(input, fromHeaders, () => NO_CREDENTIAL),
  }

  const write = async (http: HTTPWireInfo, session: UserSession, createdAt: number): Promise<void> => {
    const now = clock()
    const expiresAt = lifetime.expiresAt(createdAt, now)
    const value = await new EncryptJWT({ ses: session, ct: createdAt, lat: now })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: encryptionKey.kid, typ: TYPE })
      .setExpirationTime(Math.ceil(expiresAt / 1000))
      .encrypt(encryptionKey.bytes)
    const maxAge = cookie.persistent ? Math.floor((createdAt + lifetime.absoluteTimeout - now) / 1000) : undefined
    const setCookie = cookie.serialize(value, maxAge)
    if (setCookie.length > COOKIE_SIZE_LIMIT) {
      throw new Error(
        `The encrypted session cookie would be ${setCookie.length} bytes, over the ${COOKIE_SIZE_LIMIT}-byte limit browsers keep ` +
          '(a larger cookie is silently dropped). Store less in the session: keep ids in it and load the rest from your database, ' +
          'or use stored sessions (createHTTPSessions), whose cookie holds only a token.',
      )
    }
    http.appendHeader('set-cookie', setCookie)
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
    let loaded: Loaded | undefined
    if (found.outcome !== 'none') http.setHeader('cache-control', 'no-store')
    if (found.outcome === 'transient') {
      state.resumeTransient(found.session)
      loaded = (found as DecryptedCookie).loaded
    } else if (found.outcome === 'refused') {
      reportRefused?.(wire, found)
    }
    if (loaded !== undefined && csrf !== undefined && UNSAFE_METHODS.has(http.method)) csrf.assertSameSite(http)
    await next()
    const current = state.current
    if (state.changed) {
      const login = current !== undefined && (loaded === undefined || state.pending !== undefined)
      // As for stored sessions: a change is written to the cookie only for a request from an
      // allowed site, whatever the method (SameSite=Lax sends the cookie on cross-site links): a
      // login unless checkLogin is off, a change or logout unless the unsafe method was checked
      // before the call.
      if (csrf !== undefined && (login ? csrf.checkLogin : loaded !== undefined && !UNSAFE_METHODS.has(http.method))) csrf.assertSameSite(http)
      http.setHeader('cache-control', 'no-store')
      if (current === undefined) {
        if (found.outcome !== 'none') http.appendHeader('set-cookie', cookie.expired)
        if (cookie.clearSiteData) http.setHeader('clear-site-data', '"cookies"')
        return
      }
      await write(http, current, login ? clock() : loaded!.createdAt)
      return
    }
    if (loaded !== undefined && current !== undefined && lifetime.renewalDue(loaded.lastActiveAt, clock())) {
      await write(http, current, loaded.createdAt)
    }
  }

  return {
    middleware,
    cookieName: cookie.name,
    authenticator,
    async authenticate(header) {
      const found = await fromHeaders({ header })
      return found.outcome === 'transient' ? found.session : undefined
    },
  }
}
