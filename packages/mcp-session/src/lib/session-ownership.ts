import type { SessionAuthenticator, SessionManager, UserSession } from '@pikku/core'
import { ANONYMOUS, IN_BAND, identityOf, type MCPIdentity, storedIdentity, userIdOf } from './identity.js'
import type { MCPSession } from './mcp-sessions.js'

/** Who sent a request, or why the MCP session refuses them. */
export type CallerResolution =
  | { readonly kind: 'ok'; readonly identity: MCPIdentity }
  /** Another user's credential: the session does not exist for them (404). */
  | { readonly kind: 'not-yours' }
  /** A 401: a credential that cannot be read or verified, or none on a session bound to a user. */
  | { readonly kind: 'unauthorized'; readonly error: 'invalid_token' | 'invalid_request' | undefined; readonly message: string }

export interface CallerResolverOptions {
  readonly authenticator: SessionAuthenticator
  readonly sessions: SessionManager<UserSession>
  readonly inBandLogin: boolean
}

/** A request header by lower-case name. */
export type HeaderReader = (name: string) => string | undefined

/**
 * The caller of one request on an MCP session (or of an initialize, with no session). An MCP
 * session bound to a user (a credential at initialize, or an in-band login) is that user's alone:
 * every request on it presents their credential, which is
 * - a credential the authenticator verifies as that user (a bearer token, an API key…; another
 *   user's gets 404: the session does not exist for them), or
 * - the in-band binding: the `Mcp-Session-Id` of a session whose in-band login is still live. That
 *   id is all an in-band client has, so it is the credential, for that one MCP session; once the
 *   login ends (revocation, expiry) the id alone authenticates nobody.
 * A request with neither gets 401, so it can neither act in nor end the session. An unbound
 * (anonymous) session may be used by whoever has its id, with or without a credential.
 */
export function createCallerResolver(options: CallerResolverOptions): (header: HeaderReader, session: MCPSession | undefined) => Promise<CallerResolution> {
  const { authenticator, sessions, inBandLogin } = options
  return async (header, session) => {
    const owner = session?.data.boundUserId
    const found = await authenticator.authenticate({ header })
    if (found.outcome === 'refused') {
      sessions.refused({ credential: found.credential, reason: found.reason, protocol: 'mcp' })
      return unauthorized('invalid_token', 'The credential is invalid, expired or revoked')
    }
    const identity = identityOf(found)
    if (identity !== undefined) {
      if (owner !== undefined && owner !== userIdOf(identity)) return { kind: 'not-yours' }
      return { kind: 'ok', identity }
    }
    // An Authorization header the authenticator does not read (another scheme, an empty bearer):
    // ignoring it would quietly turn the caller anonymous.
    if (header('authorization') !== undefined) {
      return unauthorized('invalid_request', 'The Authorization header is not a credential this endpoint accepts: send Authorization: Bearer <token>')
    }
    const bound = inBandLogin ? session?.data.boundSessionId : undefined
    if (bound !== undefined) {
      const record = await sessions.loadById(bound)
      if (record !== undefined && (owner === undefined || record.userId === owner)) return { kind: 'ok', identity: storedIdentity(record, IN_BAND) }
    }
    if (owner === undefined) return { kind: 'ok', identity: ANONYMOUS }
    return bound !== undefined || session?.data.ownedVia === 'login'
      ? unauthorized(undefined, 'This MCP session belongs to a user whose login in it has ended: send their credential (Authorization: Bearer <token>), or start a new MCP session (initialize) to log in again')
      : unauthorized(undefined, 'This MCP session belongs to a user: send their credential (Authorization: Bearer <token>)')
  }
}

function unauthorized(error: 'invalid_token' | 'invalid_request' | undefined, message: string): CallerResolution {
  return { kind: 'unauthorized', error, message }
}
