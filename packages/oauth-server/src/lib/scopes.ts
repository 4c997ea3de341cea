import { ForbiddenError, type PikkuPermission, type SessionlessWire } from '@pikku/core'

/** What a call made with an OAuth access token carries, as `wire.oauth`. */
export interface OAuthWireInfo {
  /** The scopes the user granted the client (`mcp:tools` and the app's own). */
  readonly scopes: readonly string[]
  /** The client the user granted them to. */
  readonly clientId: string
}

declare module '@pikku/core' {
  interface PikkuWire {
    /** Set by the protocol when the call's credential is an OAuth access token. */
    readonly oauth?: OAuthWireInfo
  }
}

/** The `details` of the 403 a missing scope raises; MCP answers it with an `insufficient_scope` challenge. */
export interface InsufficientScopeDetails {
  readonly error: 'insufficient_scope'
  /** The scope the function needs. */
  readonly scope: string
}

/**
 * A permission guard for a function that an OAuth client may call only with `scope` granted.
 * Calls made with another credential (the app's own cookie, a bearer JWT, an in-band login) are
 * the user acting directly and pass; an access token without the scope gets 403 with
 * `details: { error: 'insufficient_scope', scope }`, so the client can ask the user for more.
 */
export function requireScope(scope: string): PikkuPermission {
  if (typeof scope !== 'string' || scope.length === 0 || scope.includes(' ')) {
    throw new TypeError(`requireScope takes one scope name without spaces; got ${JSON.stringify(scope)}`)
  }
  return (_services, _data, wire: SessionlessWire) => {
    const oauth = wire.oauth
    if (oauth === undefined || oauth.scopes.includes(scope)) return true
    const details: InsufficientScopeDetails = { error: 'insufficient_scope', scope }
    throw new ForbiddenError(`This client was not granted the ${scope} scope`, { details })
  }
}
