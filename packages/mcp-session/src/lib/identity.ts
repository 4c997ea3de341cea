import type { Authentication, CredentialKind, SessionRecord, UserSession } from '@pikku/core'

/**
 * Who is calling: the session a credential named, and what kind of credential it was. A stored
 * session (a session token, a JWT naming one, an in-band login) has its `record`; a session no
 * store backs (an API key, a stateless token) is `transient` and lives for the request.
 */
export interface MCPIdentity {
  readonly record: SessionRecord<UserSession> | undefined
  readonly transient: UserSession | undefined
  /** The credential kind the authenticator reported (`'bearer'`, `'api-key'`…), or `'in-band'`. */
  readonly via: CredentialKind | undefined
  /** What the credential is limited to (an OAuth access token's scopes), for `wire.scopes`. */
  readonly scopes?: readonly string[]
}

export const ANONYMOUS: MCPIdentity = Object.freeze({ record: undefined, transient: undefined, via: undefined })

/** The credential kind of the `login` tool's session, bound to an MCP session or a stdio connection. */
export const IN_BAND: CredentialKind = 'in-band'

/** The identity an authenticator's answer names, or undefined for `'none'` and `'refused'`. */
export function identityOf(found: Authentication<UserSession>): MCPIdentity | undefined {
  switch (found.outcome) {
    case 'stored':
      return found.scopes === undefined
        ? { record: found.record, transient: undefined, via: found.credential }
        : { record: found.record, transient: undefined, via: found.credential, scopes: found.scopes }
    case 'transient':
      return found.scopes === undefined
        ? { record: undefined, transient: found.session, via: found.credential }
        : { record: undefined, transient: found.session, via: found.credential, scopes: found.scopes }
    default:
      return undefined
  }
}

export function storedIdentity(record: SessionRecord<UserSession>, via: CredentialKind | undefined): MCPIdentity {
  return { record, transient: undefined, via }
}

/** The user an identity acts as, or undefined for an anonymous caller. */
export function userIdOf(identity: MCPIdentity): string | undefined {
  return identity.record?.userId ?? identity.transient?.userId
}
