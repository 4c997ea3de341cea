import type { UserSession } from '@pikku/core'
import type { SessionState } from '@pikku/core/protocol'
import type { ChannelUpgradeRequest } from './upgrade-request.js'

/**
 * What middleware and functions see of the connection a message arrived on: `wire.channel`.
 * Per-connection application state lives in `state`, apart from the user session, so that
 * clearing or switching the session never touches it and it is never persisted.
 */
export interface ChannelWireInfo {
  /** Unique per connection (random), for logs and for keying the app's own maps. */
  readonly connectionId: string
  /** The route the connection was opened on, e.g. `/ws`. */
  readonly route: string
  /** Per-connection state for the app; lives exactly as long as the connection. */
  readonly state: Map<string, unknown>
  /** Pushes a server event `{ "event": event, "data": data }` to this connection's client. */
  send(event: string, data?: unknown): void
  /** Closes the connection (a normal close, 1000, unless told otherwise). */
  close(code?: number, reason?: string): void
}

/** One open connection, as the channel's hooks (`onConnect`, the session handler) see it. */
export interface ChannelConnection extends ChannelWireInfo {
  /**
   * The user session of this connection: one `SessionState` for the connection's whole life.
   * Every message's `wire.session` is this object.
   */
  readonly session: SessionState<UserSession>
  /** The HTTP upgrade request that opened the connection. */
  readonly request: ChannelUpgradeRequest
  /** False once the connection is closing or closed; `send` does nothing then. */
  readonly isOpen: boolean
}

declare module '@pikku/core' {
  interface PikkuWire {
    /** Present on calls that arrived over a WebSocket channel. */
    readonly channel?: ChannelWireInfo
  }
}
