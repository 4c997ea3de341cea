import type { ChannelConnection } from '@pikku/channel'
import { sessionMetadata, type SessionManager, type SessionRecord, type UserSession } from '@pikku/core'
import type { SessionCommitResult, SessionLoadOptions, SessionState } from '@pikku/core/protocol'
import { userAgentLabel } from '@pikku/http'
import type { Binding, ConnectionBindings } from './connection-bindings.js'
import type { StoreEventFollower } from './store-events.js'
import type { TransientSessions } from './transient-sessions.js'

// A reload before a message is that message's load: an expiry it finds is the channel's.
const CHANNEL_LOAD: SessionLoadOptions = Object.freeze({ protocol: 'channel' })

/** The per-message work: reload what is stale before the call, persist what the call did after it. */
export interface CallHooks {
  beforeCall(connection: ChannelConnection): Promise<void> | undefined
  afterCall(connection: ChannelConnection): Promise<void> | undefined
  callFailed(connection: ChannelConnection, error: unknown): void
}

/**
 * The channel runtime calls these around every message (decision 012). A message that needs no
 * reload and no write returns from both at once, without a promise or a store call; whether a
 * write is due is the session manager's rule (`needsCommit`), not this package's.
 */
export function createCallHooks(
  sessions: SessionManager<UserSession>,
  bindings: ConnectionBindings,
  events: StoreEventFollower,
  transient: TransientSessions,
): CallHooks {
  const clock = sessions.clock

  /**
   * Reloads the connection's session from the store (after a change elsewhere, at expiry, or before
   * every message while the store's events are interrupted).
   */
  const reload = async (binding: Binding, state: SessionState<UserSession>): Promise<void> => {
    const id = binding.id!
    const record = await sessions.loadById(id, CHANNEL_LOAD)
    if (binding.id !== id) return
    if (record === undefined || record.userId !== state.current?.userId) {
      bindings.end(binding)
      return
    }
    state.resume(record)
    bindings.track(binding, record)
  }

  /** A failed call persists nothing (as on HTTP); the connection's state forgets what it did. */
  const rollback = (binding: Binding, state: SessionState<UserSession>): void => {
    if (!state.changed) return
    const baseline = state.baseline
    if (baseline !== undefined) state.resume(baseline)
    else if (binding.transient !== undefined) state.resumeTransient(binding.transient.session)
    // A transient session this package did not adopt (the app's onConnect, say) is the app's.
    else if (!state.transient) state.reset()
  }

  const settle = (binding: Binding, state: SessionState<UserSession>, result: SessionCommitResult): void => {
    switch (result.kind) {
      case 'created':
        // A login: the connection now answers to the new id (and the old one was deleted).
        if (binding.closed) return
        bindings.forgetTransient(binding)
        bindings.bind(binding, state.baseline ?? (result.record as SessionRecord<UserSession>))
        return
      case 'updated':
      case 'renewed':
        if (state.baseline !== undefined && binding.id !== undefined) bindings.track(binding, state.baseline)
        return
      case 'cleared':
        bindings.unbind(binding)
        return
      case 'revoked':
        if (binding.id !== undefined) bindings.end(binding)
        return
      case 'unchanged':
        return
    }
  }

  /** After a successful call: persist what it did. */
  const persist = async (binding: Binding, state: SessionState<UserSession>): Promise<void> => {
    let result: SessionCommitResult
    try {
      // An in-band login records the socket's client: its browser (the upgrade's User-Agent) and address.
      result = await sessions.commit(state, state.pending === undefined ? undefined : { metadata: channelMetadata(binding.connection) })
    } catch (error) {
      rollback(binding, state)
      // What is stored is unknown now (a conflict, an outage): read it again before the next message.
      if (binding.id !== undefined) binding.stale = true
      throw error
    }
    settle(binding, state, result)
  }

  /**
   * A successful call changed what no store keeps: a session no store backs (kept by the connection
   * from now on, and what a later failed call falls back to), or nothing that was stored.
   */
  const keepUnstored = (binding: Binding, state: SessionState<UserSession>): void => {
    const current = state.current
    if (current === undefined) {
      // A logout: the connection is anonymous now. The credential it opened with stays valid
      // (nothing stored to delete); it is the client's to discard.
      bindings.forgetTransient(binding)
      state.reset()
      return
    }
    if (binding.transient !== undefined && state.transient) {
      binding.transient.session = current
      state.resumeTransient(current)
    }
  }

  return {
    beforeCall(connection) {
      const state = connection.session
      const binding = bindings.of(state)
      if (binding === undefined) return undefined
      if (binding.id !== undefined) {
        return events.interrupted || binding.stale || clock() >= binding.expiresAt ? reload(binding, state) : undefined
      }
      return binding.transient !== undefined && clock() >= binding.expiresAt ? transient.verify(binding) : undefined
    },

    afterCall(connection) {
      const state = connection.session
      const binding = bindings.of(state)
      if (binding === undefined) return undefined
      if (sessions.needsCommit(state)) return persist(binding, state)
      // Nothing to write and no renewal due: the common case, with no store call at all.
      if (state.changed) keepUnstored(binding, state)
      return undefined
    },

    callFailed(connection) {
      const binding = bindings.of(connection.session)
      if (binding !== undefined) rollback(binding, connection.session)
    },
  }
}

/** Who the client of a socket is, for a session it logs in to in-band. */
function channelMetadata(connection: ChannelConnection) {
  const request = connection.request
  return sessionMetadata('channel', 'in-band', { label: userAgentLabel(request.header('user-agent')), address: request.clientAddress })
}
