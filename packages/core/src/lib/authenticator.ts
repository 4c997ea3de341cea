import type { CoreUserSession, UserSession } from './register.js'
import type { SessionState } from './session-state.js'
import type { SessionRecord } from './session-store.js'

/**
 * What kind of credential named a session: recorded in the session inventory and the audit trail,
 * and used by protocols to tell a cookie (which browsers attach on their own, so an Origin check
 * applies) from a credential a client sends on purpose.
 */
export type CredentialKind = 'cookie' | 'bearer' | 'api-key' | 'oauth' | 'in-band' | (string & {})

/**
 * A credential as a protocol received it: the headers of a request (HTTP, a WebSocket upgrade, an
 * MCP POST), or a bare token (a WebSocket subprotocol token, an MCP stdio or CLI token).
 */
export type CredentialInput =
  | { readonly header: (name: string) => string | undefined; readonly token?: undefined }
  | { readonly token: string; readonly header?: undefined }

/**
 * What an authenticator found. A store outage is not an outcome: it rejects with
 * `ServiceUnavailableError`. `scopes`, on a session found, is what the credential is limited to (an
 * OAuth access token's scopes): protocols put it on `wire.scopes` for permission guards. Absent
 * for a credential that is the user acting directly (a cookie, the app's own bearer token).
 */
export type Authentication<S extends CoreUserSession = UserSession> =
  /** No credential this authenticator reads was offered. */
  | { readonly outcome: 'none' }
  /**
   * A credential was offered and failed verification (malformed, expired, revoked, unknown).
   * `reason` is a short code for logs and events (`'expired'`, `'invalid'`, `'unknown-session'`),
   * never the credential.
   */
  | { readonly outcome: 'refused'; readonly credential: CredentialKind; readonly reason: string }
  /** A session kept in the store: revocable, listed, renewed by the session manager. */
  | { readonly outcome: 'stored'; readonly credential: CredentialKind; readonly record: SessionRecord<S>; readonly scopes?: readonly string[] }
  /** A session no store backs (an API key, a stateless token): it lives for the call or connection. */
  | { readonly outcome: 'transient'; readonly credential: CredentialKind; readonly session: S; readonly scopes?: readonly string[] }

/**
 * The one credential interface every protocol accepts: HTTP strategies implement it, and WebSocket
 * channels, the MCP endpoint and the MCP stdio server take one, so any credential kind (cookies,
 * bearer JWTs, stateless tokens, API keys, OAuth access tokens) works on every protocol.
 */
export interface SessionAuthenticator<S extends CoreUserSession = UserSession> {
  /**
   * Verifies the credential in `input`. Resolves `{ outcome: 'none' }` when `input` carries no
   * credential of this kind, so authenticators can be combined with `firstAuthenticated`.
   */
  authenticate(input: CredentialInput): Promise<Authentication<S>>
  /**
   * Cookies this authenticator reads from headers. A protocol where browsers apply no
   * same-origin policy (WebSocket upgrades) checks `Origin` whenever one of them is sent.
   * @default [] (none)
   */
  readonly cookieNames?: readonly string[]
}

const NONE: Authentication<never> = Object.freeze({ outcome: 'none' })

/** The shared answer for "no credential offered". */
export function noCredential<S extends CoreUserSession = UserSession>(): Authentication<S> {
  return NONE
}

/**
 * Tries authenticators in order and returns the first answer that is not `'none'`: a refused
 * credential stops the search, so a bad API key never falls back to a cookie and a client never
 * silently acts as someone else.
 */
export function firstAuthenticated<S extends CoreUserSession = UserSession>(...authenticators: readonly SessionAuthenticator<S>[]): SessionAuthenticator<S> {
  if (authenticators.length === 0) throw new TypeError('firstAuthenticated needs at least one authenticator')
  for (const [index, authenticator] of authenticators.entries()) {
    if (authenticator === null || typeof authenticator !== 'object' || typeof authenticator.authenticate !== 'function') {
      throw new TypeError(`firstAuthenticated: argument ${index} is not an authenticator (an object with authenticate(input))`)
    }
  }
  const cookieNames = [...new Set(authenticators.flatMap((authenticator) => authenticator.cookieNames ?? []))]
  return {
    cookieNames,
    async authenticate(input) {
      for (const authenticator of authenticators) {
        const found = await authenticator.authenticate(input)
        if (found.outcome !== 'none') return found
      }
      return NONE
    },
  }
}

/**
 * Makes `state` the session an authentication found: `resume` for a stored one, `resumeTransient`
 * for one no store backs. Returns false (and leaves `state` as it was) for `'none'` and `'refused'`.
 */
export function adoptAuthentication<S extends CoreUserSession>(state: SessionState<S>, found: Authentication<S>): boolean {
  switch (found.outcome) {
    case 'stored':
      state.resume(found.record)
      return true
    case 'transient':
      state.resumeTransient(found.session)
      return true
    default:
      return false
  }
}
