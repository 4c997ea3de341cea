import type { UserSession } from './register.js'
import type { AuthedUserSessionService, SessionState, UserSessionService } from './session-state.js'

/** The protocol a call arrived on. Protocol packages may use their own names. */
export type PikkuProtocol = 'http' | 'channel' | 'cli' | 'mcp' | 'service' | (string & {})

/**
 * Who is calling, as the protocol adapter knows it: read by login throttling, the audit trail and
 * the session inventory. Never a credential.
 */
export interface PikkuClientInfo {
  /**
   * The client's network address: the connection's peer, or the address a trusted proxy reported
   * when the adapter is configured to trust one (never `X-Forwarded-For` by default). Undefined
   * where there is no network peer (a local CLI command).
   */
  readonly address?: string
  /** A short human label for the client (browser and OS, `cli@<hostname>`, an MCP client's name and version). */
  readonly label?: string
}

/**
 * Everything about one call that is not its data. Protocol packages add their own optional fields
 * by declaration merging (for example `http` with the request), so middleware can read them:
 *
 * ```ts
 * declare module '@pikku/core' {
 *   interface PikkuWire { http?: HTTPWireInfo }
 * }
 * ```
 */
export interface PikkuWire {
  readonly protocol: PikkuProtocol
  /**
   * The session of this call, with the controls protocol middleware uses (`resume`, `pending`,
   * `patch`…). Functions see it through the narrower `UserSessionService`.
   */
  readonly session: SessionState<UserSession>
  /** Set when the call runs as a service account. */
  readonly serviceAccount?: string
  /** The caller's address and label, when the protocol knows them. */
  readonly client?: PikkuClientInfo
  /**
   * What the call's credential is limited to, when it is limited: the scopes of an OAuth access
   * token (from the authenticator's `scopes`). Undefined for the user acting directly (a cookie, a
   * login, the app's own bearer token), whom scopes do not restrict.
   */
  readonly scopes?: readonly string[]
}

/** The wire a `pikkuFunc` receives: a session is guaranteed. */
export type AuthedWire = Omit<PikkuWire, 'session'> & { readonly session: AuthedUserSessionService<UserSession> }

/** The wire a `pikkuSessionlessFunc` receives: the session may be empty. */
export type SessionlessWire = Omit<PikkuWire, 'session'> & { readonly session: UserSessionService<UserSession> }
