import { noCredential, type SessionAuthenticator, type SessionRecord, type UserSession } from '@pikku/core'

/**
 * The verifier shape `createChannelSessions` took in version 1 (`createHTTPSessions()` had it).
 * @deprecated Pass `authenticator` (core's `SessionAuthenticator`) instead; `credentials` is
 * accepted for this major version only.
 */
export interface ChannelCredentials {
  /** The session named by the request's cookie (or `Authorization` header), if valid. */
  authenticate(header: (name: string) => string | undefined): Promise<{ readonly record: SessionRecord<UserSession>; readonly via: 'cookie' | 'bearer' } | undefined>
  /** The session a bearer token names, if the token is valid and the session live. */
  authenticateToken(token: string): Promise<SessionRecord<UserSession> | undefined>
  /** The session cookie's name; undefined when cookies are off. */
  readonly cookieName: string | undefined
}

/**
 * Reads version-1 `credentials` through the authenticator interface. That shape cannot tell "no
 * credential" from "a bad one" for headers, so both come out as `'none'`; either way the
 * connection is anonymous, as before.
 */
export function authenticatorFromCredentials(credentials: ChannelCredentials): SessionAuthenticator<UserSession> {
  return {
    cookieNames: credentials.cookieName === undefined ? [] : [credentials.cookieName],
    async authenticate(input) {
      if (input.token !== undefined) {
        const record = await credentials.authenticateToken(input.token)
        return record === undefined ? { outcome: 'refused', credential: 'bearer', reason: 'invalid' } : { outcome: 'stored', credential: 'bearer', record }
      }
      const found = await credentials.authenticate(input.header)
      return found === undefined ? noCredential() : { outcome: 'stored', credential: found.via, record: found.record }
    },
  }
}
