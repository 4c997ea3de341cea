import { createConsoleLogger, systemClock, type Clock, type Logger, type PikkuMiddleware, type UserSession } from '@pikku/core'
import type { HTTPWireInfo } from '@pikku/http'
import { EncryptJWT, jwtDecrypt, type JWTDecryptOptions } from 'jose'
import { firstVerified } from './cookie-header.js'
import { resolveCsrfPolicy, UNSAFE_METHODS, type CsrfOptions } from './csrf.js'
import { assertSecrets, deriveKeys } from './secrets.js'
import { COOKIE_SIZE_LIMIT, resolveSessionCookie, type CookieSessionOptions } from './session-cookie.js'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

export interface EncryptedCookieSessionsOptions {
  /**
   * Secrets, newest first: the first encrypts, every one decrypts. Each at least 32 bytes
   * (`openssl rand -base64 32`). A cookie encrypted with a removed secret is "no session".
   */
  secrets: readonly string[]
  /** Cookie attributes; the same secure defaults as stored sessions. @default {} */
  cookie?: CookieSessionOptions
  /** A session unused for this long ends (ms). @default 86_400_000 (24 hours) */
  idleTimeout?: number
  /** A session ends this long after login however much it is used (ms). @default 604_800_000 (7 days) */
  absoluteTimeout?: number
  /**
   * A read-only request re-encrypts the cookie (moving the idle timer) only when the last renewal
   * is older than this (ms).
   * @default 300_000 (5 minutes), or a tenth of idleTimeout when that is shorter
   */
  renewalInterval?: number
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
}

export interface EncryptedCookieSessions {
  /** The protocol middleware: `createHTTPHandler({ middleware: [cookieSessions.middleware] })`. */
  readonly middleware: PikkuMiddleware
  /** The cookie's name (with the `__Host-` prefix when enabled). */
  readonly cookieName: string
  /** The session in a request's `Cookie` header (for a WebSocket upgrade), or undefined. */
  authenticate(header: (name: string) => string | undefined): Promise<UserSession | undefined>
}

interface Loaded {
  readonly createdAt: number
  readonly lastActiveAt: number
}

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
  const idleTimeout = options.idleTimeout ?? DAY
  const absoluteTimeout = options.absoluteTimeout ?? 7 * DAY
  const renewalInterval = options.renewalInterval ?? Math.min(5 * MINUTE, Math.floor(idleTimeout / 10))
  for (const [name, value] of [['idleTimeout', idleTimeout], ['absoluteTimeout', absoluteTimeout]] as const) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${where}: ${name} must be a positive number of milliseconds; got ${value}`)
  }
  if (!Number.isFinite(renewalInterval) || renewalInterval < 0 || renewalInterval >= idleTimeout) {
    throw new RangeError(`${where}: renewalInterval must be at least 0 and shorter than idleTimeout (${idleTimeout} ms); got ${renewalInterval}`)
  }
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

  const decrypt = async (value: string): Promise<{ session: UserSession; loaded: Loaded } | undefined> => {
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
      logger.debug('session cookie rejected', { reason: (error as { code?: string }).code ?? 'invalid' })
      return undefined
    }
    const session = payload['ses']
    const createdAt = payload['ct']
    const lastActiveAt = payload['lat']
    if (typeof session !== 'object' || session === null || Array.isArray(session)) return undefined
    if (typeof (session as { userId?: unknown }).userId !== 'string') return undefined
    if (typeof createdAt !== 'number' || typeof lastActiveAt !== 'number') return undefined
    // The timeouts are checked here, not only through `exp`, so shortening them in configuration
    // takes effect for cookies issued under the old values.
    if (now >= createdAt + absoluteTimeout || now >= lastActiveAt + idleTimeout) return undefined
    return { session: session as UserSession, loaded: { createdAt, lastActiveAt } }
  }

  const write = async (http: HTTPWireInfo, session: UserSession, createdAt: number): Promise<void> => {
    const now = clock()
    const expiresAt = Math.min(now + idleTimeout, createdAt + absoluteTimeout)
    const value = await new EncryptJWT({ ses: session, ct: createdAt, lat: now })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: encryptionKey.kid, typ: TYPE })
      .setExpirationTime(Math.ceil(expiresAt / 1000))
      .encrypt(encryptionKey.bytes)
    const maxAge = cookie.persistent ? Math.floor((createdAt + absoluteTimeout - now) / 1000) : undefined
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
    const values = cookie.read(http.header('cookie'))
    let loaded: Loaded | undefined
    if (values !== undefined) {
      http.setHeader('cache-control', 'no-store')
      // Several cookies of the name (one planted by a sibling subdomain, say): the first that
      // decrypts and is within its timeouts is used, and none that is not.
      const decrypted = await firstVerified(values, decrypt)
      if (decrypted !== undefined) {
        state.resumeTransient(decrypted.session)
        loaded = decrypted.loaded
      }
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
        if (values !== undefined) http.appendHeader('set-cookie', cookie.expired)
        if (cookie.clearSiteData) http.setHeader('clear-site-data', '"cookies"')
        return
      }
      await write(http, current, login ? clock() : loaded!.createdAt)
      return
    }
    if (loaded !== undefined && current !== undefined && clock() - loaded.lastActiveAt >= renewalInterval) {
      await write(http, current, loaded.createdAt)
    }
  }

  return {
    middleware,
    cookieName: cookie.name,
    async authenticate(header) {
      const values = cookie.read(header('cookie'))
      return values === undefined ? undefined : (await firstVerified(values, decrypt))?.session
    },
  }
}
