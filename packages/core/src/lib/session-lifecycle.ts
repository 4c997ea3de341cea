import type { CredentialKind } from './authenticator.js'
import type { Logger } from './logger.js'
import type { SessionHandle, SessionMetadata } from './session-metadata.js'
import type { PikkuProtocol } from './wire.js'

/**
 * Fields every session lifecycle event carries. `protocol` is the protocol of the call that caused
 * the event; `createdProtocol`, `credential`, `label` and `address` are the session's recorded
 * metadata (for `refused`, the failed request's); undefined where unknown. Never a token, a
 * password or session data.
 */
export interface SessionEventClient {
  /** When it happened, ms since the epoch (the manager's clock). */
  readonly at: number
  /**
   * The protocol of the call that did it: a revocation from a CLI command is `cli` whatever the
   * revoked session is. Undefined for an action outside a call (server code, a timer) and for an
   * expiry found by a load that was not told its protocol. A login's is always its own protocol.
   */
  readonly protocol: PikkuProtocol | undefined
  /** The protocol the session was created on (its recorded metadata). Undefined for `refused`. */
  readonly createdProtocol: PikkuProtocol | undefined
  readonly credential: CredentialKind | undefined
  readonly label: string | undefined
  readonly address: string | undefined
}

/** Fields of an event about one session. */
export interface SessionEventSubject extends SessionEventClient {
  readonly handle: SessionHandle
  readonly userId: string
}

/**
 * What happened to a session, emitted by the session manager (the one place every protocol
 * passes) to `onEvent` subscribers after the call that caused it:
 *
 * - `created`: a login started a session.
 * - `rotated`: a login replaced the same user's session with a new id (`previousHandle` ended).
 * - `updated`: the session's data changed in place.
 * - `renewed`: a read-only call renewed the idle timer (at most once per renewal interval).
 * - `cleared`: a logout.
 * - `revoked`: ended by `revoke`/`revokeHandle`/`revokeOthers`/`revokeUser`, with who and why.
 * - `expired`: found past its idle or absolute timeout when loaded, or removed by the store's sweep
 *   (`onSweep`; Redis key TTL is not observed).
 * - `refused`: a credential failed verification (its kind and a short reason only).
 */
export type SessionLifecycleEvent =
  | (SessionEventSubject & { readonly type: 'created' })
  | (SessionEventSubject & { readonly type: 'rotated'; readonly previousHandle: SessionHandle })
  | (SessionEventSubject & { readonly type: 'updated' })
  | (SessionEventSubject & { readonly type: 'renewed' })
  | (SessionEventSubject & { readonly type: 'cleared' })
  | (SessionEventSubject & { readonly type: 'revoked'; readonly by: string; readonly reason: string })
  | (SessionEventSubject & { readonly type: 'expired' })
  | (SessionEventClient & { readonly type: 'refused'; readonly credential: CredentialKind; readonly reason: string })

export type SessionLifecycleEventType = SessionLifecycleEvent['type']

/**
 * A subscriber. Runs after the call that caused the event has been answered, never inside it: what
 * it throws or rejects with is logged and dropped, and a slow promise delays nothing.
 */
export type SessionLifecycleListener = (event: SessionLifecycleEvent) => void | Promise<void>

/** What the protocol knew about a refused credential, for `sessions.refused(…)`. */
export interface SessionRefusal {
  readonly credential: CredentialKind
  /** A short code (`'invalid'`, `'expired'`, `'unknown-session'`), never the credential. */
  readonly reason: string
  readonly protocol?: PikkuProtocol
  readonly label?: string
  readonly address?: string
}

/** Fan-out of lifecycle events to subscribers, off the request path. */
export interface SessionLifecycleEmitter {
  /** Whether anyone listens: callers skip building an event when nobody does. */
  readonly active: boolean
  emit(event: SessionLifecycleEvent): void
  subscribe(listener: SessionLifecycleListener): () => void
}

export function createSessionLifecycleEmitter(logger: Logger, initial?: SessionLifecycleListener): SessionLifecycleEmitter {
  const listeners = new Set<SessionLifecycleListener>()
  if (initial !== undefined) listeners.add(initial)
  let queue: SessionLifecycleEvent[] = []
  const failed = (error: unknown, event: SessionLifecycleEvent): void => {
    logger.error('a session event subscriber failed', { error, event: event.type })
  }
  const flush = (): void => {
    const events = queue
    queue = []
    for (const event of events) {
      for (const listener of listeners) {
        try {
          const result = listener(event)
          if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
            ;(result as Promise<void>).then(undefined, (error: unknown) => failed(error, event))
          }
        } catch (error) {
          failed(error, event)
        }
      }
    }
  }
  return {
    get active() {
      return listeners.size > 0
    },
    emit(event) {
      if (listeners.size === 0) return
      // setImmediate runs after the I/O callbacks and microtasks that write the call's response,
      // so no subscriber delays or breaks a response.
      if (queue.length === 0) setImmediate(flush)
      queue.push(event)
    },
    subscribe(listener) {
      if (typeof listener !== 'function') throw new TypeError('a session event subscriber must be a function')
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
  }
}

/** The `refused` event for a refusal at `at` (the manager's `refused` and stateless strategies build it here). */
export function refusedEvent(at: number, refusal: SessionRefusal): SessionLifecycleEvent {
  return {
    type: 'refused',
    at,
    credential: refusal.credential,
    reason: refusal.reason,
    protocol: refusal.protocol,
    createdProtocol: undefined,
    label: refusal.label,
    address: refusal.address,
  }
}

/** The client fields of an event from a session's metadata and the protocol of the call that caused it. */
export function eventClient(at: number, metadata: SessionMetadata | undefined, protocol: PikkuProtocol | undefined): SessionEventClient {
  return {
    at,
    protocol,
    createdProtocol: metadata?.protocol,
    credential: metadata?.credential,
    label: metadata?.label,
    address: metadata?.address,
  }
}
