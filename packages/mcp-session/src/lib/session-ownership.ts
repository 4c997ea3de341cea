import type { SessionManager, SessionRecord, UserSession } from '@pikku/core'
import { MAX_BEARER_LENGTH, readBearerToken } from '@pikku/http'
import type { MCPSessionRecord } from './mcp-session-records.js'
import { ANONYMOUS, type MCPIdentity } from './tool-server.js'

/** Who sent a request, or why the MCP session refuses them. */
export type CallerResolution =
  | { readonly kind: 'ok'; readonly identity: MCPIdentity }
  /** Another user's credential: the session does not exist for them (404). */
  | { readonly kind: 'not-yours' }
  /** A 401: a credential that cannot be read or verified, or none on a session bound to a user. */
  | { readonly kind: 'unauthorized'; readonly error: 'invalid_token' | 'invalid_request' | undefined; readonly message: string }

export interface CallerResolverOptions {
  authenticateToken: (token: string) => Promise<SessionRecord<UserSession> | undefined>
  sessions: SessionManager<UserSession>
  inBandLogin: boolean
}

/**
 * The caller of one request on an MCP session (or of an initialize, with no record). An MCP session
 * bound to a user (a bearer token at initialize, or an in-band login) is that user's alone: every
 * request on it presents their credential, which is
 * - their bearer token (another user's gets 404: the session does not exist for them), or
 * - the in-band binding: the `Mcp-Session-Id` of a session whose in-band login is still live. That
 *   id is all an in-band client has, so it is the credential, for that one MCP session; once the
 *   login ends (revocation, expiry) the id alone authenticates nobody.
 * A request with neither gets 401, so it can neither act in nor end the session. An unbound
 * (anonymous) session may be used by whoever has its id, with or without a bearer token.
 */
export function createCallerResolver(
  options: CallerResolverOptions,
): (authorization: string | undefined, record: MCPSessionRecord | undefined) => Promise<CallerResolution> {
  const { authenticateToken, sessions, inBandLogin } = options
  return async (authorization, record) => {
    const owner = record?.data.boundUserId
    if (authorization !== undefined) {
      const token = readBearerToken(authorization)
      // Another scheme, or a bearer without a token: this endpoint cannot read it, and ignoring
      // it would quietly turn the caller anonymous.
      if (token === undefined || token === '') return unauthorized('invalid_request', 'Only Authorization: Bearer <token> is accepted here')
      const session = token.length > MAX_BEARER_LENGTH ? undefined : await authenticateToken(token)
      if (session === undefined) return unauthorized('invalid_token', 'The bearer token is invalid, expired or revoked')
      if (owner !== undefined && owner !== session.userId) return { kind: 'not-yours' }
      return { kind: 'ok', identity: { record: session, via: 'bearer' } }
    }
    const bound = inBandLogin ? record?.data.boundSessionId : undefined
    if (bound !== undefined) {
      const session = await sessions.loadById(bound)
      if (session !== undefined && (owner === undefined || session.userId === owner)) return { kind: 'ok', identity: { record: session, via: 'mcp-session' } }
    }
    if (owner === undefined) return { kind: 'ok', identity: ANONYMOUS }
    return bound !== undefined || record?.data.ownedVia === 'login'
      ? unauthorized(undefined, 'This MCP session belongs to a user whose login in it has ended: send their Authorization: Bearer token, or start a new MCP session (initialize) to log in again')
      : unauthorized(undefined, 'This MCP session belongs to a user: send their Authorization: Bearer token')
  }
}

function unauthorized(error: 'invalid_token' | 'invalid_request' | undefined, message: string): CallerResolution {
  return { kind: 'unauthorized', error, message }
}
