import type { Authentication, CoreUserSession, SessionAuthenticator, SessionManager, SessionRecord } from '@pikku/core'
import { noCredential } from '@pikku/core'
import { readBearerToken } from '@pikku/http'
import type Provider from 'oidc-provider'
import { asStoreOutage } from './guarded-store.js'

/** An OAuth access token's session, with the scopes the user granted to its client. */
export interface OAuthAuthentication<S extends CoreUserSession> {
  readonly outcome: 'stored'
  readonly credential: 'oauth'
  readonly record: SessionRecord<S>
  /** The scopes of the access token (`mcp:tools` and the app's own): protocols put them on `wire.scopes`. */
  readonly scopes: readonly string[]
  /** The client the grant was given to. */
  readonly clientId: string
}

// The provider's opaque tokens (264 random bits, see oauth-server.ts). Any other bearer token is
// not this authenticator's: 'none', so the next authenticator (a JWT, a session token) may read it.
const ACCESS_TOKEN_SHAPE = /^[A-Za-z0-9_-]{44}$/

/**
 * Access tokens → the user session of their grant. A bearer token of another shape is `none` (not
 * this authenticator's), so it composes with others through core's `firstAuthenticated`. The token must be live, issued for `resource`
 * (a token for another audience is refused, RFC 8707), and its grant's session must still exist:
 * revoking the session (logout everywhere, the session list, an idle or absolute timeout) ends
 * every token of the grant at once, on every server sharing the store.
 */
export function createAccessTokenAuthenticator<S extends CoreUserSession>(provider: Provider, resource: string, sessions: SessionManager<S>): SessionAuthenticator<S> {
  const refused = (reason: string): Authentication<S> => ({ outcome: 'refused', credential: 'oauth', reason })
  return {
    async authenticate(input) {
      const token = input.token ?? readBearer(input.header('authorization'))
      if (token === undefined || !ACCESS_TOKEN_SHAPE.test(token)) return noCredential()
      const found = await asStoreOutage(() => provider.AccessToken.find(token))
      if (found === undefined) return refused('unknown-token')
      if (found.aud !== resource && !(Array.isArray(found.aud) && found.aud.length === 1 && found.aud[0] === resource)) {
        return refused('wrong-audience')
      }
      // The grant's session id rides in the token's stored claims (set when it was issued), so
      // a request costs two store reads: the token and the session.
      const sessionId = found.extra?.['sid']
      if (typeof sessionId !== 'string') return refused('invalid')
      const record = await sessions.loadById(sessionId)
      if (record === undefined) return refused('unknown-session')
      const scopes = typeof found.scope === 'string' && found.scope.length > 0 ? found.scope.split(' ') : []
      const authentication: OAuthAuthentication<S> = { outcome: 'stored', credential: 'oauth', record, scopes, clientId: String(found.clientId) }
      return authentication
    },
  }
}

function readBearer(header: string | undefined): string | undefined {
  return header === undefined ? undefined : readBearerToken(header)
}
