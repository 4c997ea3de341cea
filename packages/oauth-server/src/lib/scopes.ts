import { ForbiddenError, type PikkuPermission, type SessionlessWire } from '@pikku/core'

/**
 * The `details` of the 403 a missing scope raises. `@pikku/mcp-session` answers it, before the
 * tool runs, with `403` and `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`, so the
 * client can ask the user for more (step-up authorization).
 */
export interface InsufficientScopeDetails {
  readonly error: 'insufficient_scope'
  /** The scope the function needs. */
  readonly scope: string
}

/**
 * A permission guard for a function that an OAuth client may call only with `scope` granted. It
 * reads `wire.scopes`, which a protocol sets from a credential that is limited (an access token of
 * `@pikku/oauth-server`); calls made with another credential (the app's own cookie, a bearer JWT,
 * an in-band login) are the user acting directly and pass. A token without the scope gets 403 with
 * `details: { error: 'insufficient_scope', scope }`.
 */
export function requireScope(scope: string): PikkuPermission {
  if (typeof scope !== 'string' || scope.length === 0 || scope.includes(' ')) {
    throw new TypeError(`requireScope takes one scope name without spaces; got ${JSON.stringify(scope)}`)
  }
  return (_services, _data, wire: SessionlessWire) => {
    const scopes = wire.scopes
    if (scopes === undefined || scopes.includes(scope)) return true
    const details: InsufficientScopeDetails = { error: 'insufficient_scope', scope }
    throw new ForbiddenError(`This client was not granted the ${scope} scope`, { details })
  }
}
