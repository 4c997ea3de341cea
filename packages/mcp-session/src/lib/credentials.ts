import {
  type Authentication,
  type Logger,
  noCredential,
  type SessionAuthenticator,
  type SessionManager,
  type SessionRecord,
  type UserSession,
} from '@pikku/core'
import { MAX_BEARER_LENGTH, readBearerToken } from '@pikku/http'

/**
 * Verifies a bearer token.
 * @deprecated Pass `authenticator: SessionAuthenticator` instead (every HTTP strategy of
 * `@pikku/middleware-http-session` has one); this shape accepts only stored sessions.
 */
export type AuthenticateToken = (token: string) => Promise<SessionRecord<UserSession> | undefined>

const TOO_LONG: Authentication = Object.freeze({ outcome: 'refused', credential: 'bearer', reason: 'too-long' })
const INVALID: Authentication = Object.freeze({ outcome: 'refused', credential: 'bearer', reason: 'invalid' })

/**
 * An authenticator of bearer tokens that name stored sessions: `Authorization: Bearer <token>` in
 * headers, or the token itself (stdio). Any other `Authorization` scheme, and a bearer header
 * without a token, are no credential of this kind.
 */
function bearerTokenAuthenticator(verify: AuthenticateToken): SessionAuthenticator {
  const check = async (token: string): Promise<Authentication> => {
    // Refused before any parsing or store read.
    if (token.length > MAX_BEARER_LENGTH) return TOO_LONG
    const record = await verify(token)
    return record === undefined ? INVALID : { outcome: 'stored', credential: 'bearer', record }
  }
  return {
    authenticate(input) {
      if (input.token !== undefined) return input.token === '' ? Promise.resolve(noCredential()) : check(input.token)
      const authorization = input.header('authorization')
      const token = authorization === undefined ? undefined : readBearerToken(authorization)
      return token === undefined || token === '' ? Promise.resolve(noCredential()) : check(token)
    },
  }
}

export interface AuthenticatorOptions {
  readonly authenticator?: SessionAuthenticator | undefined
  readonly authenticateToken?: AuthenticateToken | undefined
  readonly sessions: SessionManager<UserSession>
}

/**
 * The authenticator a server uses: the one given; else the deprecated `authenticateToken` function
 * adapted to one; else the session manager's opaque session tokens as bearer tokens. `where`
 * prefixes error messages (`'createMCPHTTPHandler: '`).
 */
export function resolveAuthenticator(options: AuthenticatorOptions, where: string, logger: Logger): SessionAuthenticator {
  const { authenticator, authenticateToken, sessions } = options
  if (authenticator !== undefined && authenticateToken !== undefined) {
    throw new TypeError(`${where}pass authenticator or authenticateToken, not both (authenticateToken is deprecated: use authenticator)`)
  }
  if (authenticator !== undefined) {
    if (authenticator === null || typeof authenticator !== 'object' || typeof authenticator.authenticate !== 'function') {
      throw new TypeError(`${where}authenticator must be a SessionAuthenticator (an object with authenticate(input)), e.g. httpSessions.authenticator`)
    }
    return authenticator
  }
  if (authenticateToken !== undefined) {
    if (typeof authenticateToken !== 'function') {
      throw new TypeError(`${where}authenticateToken must be a function (token) => Promise<SessionRecord | undefined>; better, pass authenticator: httpSessions.authenticator`)
    }
    logger.warn(`${where}authenticateToken is deprecated and will be removed in the next major version: pass authenticator (a SessionAuthenticator, e.g. httpSessions.authenticator)`)
    return bearerTokenAuthenticator(authenticateToken)
  }
  return bearerTokenAuthenticator((token) => sessions.loadByToken(token))
}
