import type { UserSession } from './register.js'
import type { AuthedUserSessionService, SessionState, UserSessionService } from './session-state.js'

/** The protocol a call arrived on. Protocol packages may use their own names. */
export type PikkuProtocol = 'http' | 'channel' | 'cli' | 'mcp' | 'service' | (string & {})

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
}

/** The wire a `pikkuFunc` receives: a session is guaranteed. */
export type AuthedWire = Omit<PikkuWire, 'session'> & { readonly session: AuthedUserSessionService<UserSession> }

/** The wire a `pikkuSessionlessFunc` receives: the session may be empty. */
export type SessionlessWire = Omit<PikkuWire, 'session'> & { readonly session: UserSessionService<UserSession> }
