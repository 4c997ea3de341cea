import type { Logger, SessionEvent, SessionManager, UserSession } from '@pikku/core'
import { SESSION_CLEARED_EVENT, SESSION_REVOKED_EVENT, type ConnectionBindings, type SessionEndedEvent } from './connection-bindings.js'
import type { PendingUpgrades } from './upgrade-grants.js'

/**
 * Follows the store's events for the connections of one handler: a deleted session ends on its
 * connections, a changed one marks them stale (their next message reloads it once), and between
 * `interrupted` and `resync`, when revocations may not arrive, no connection's session is trusted.
 */
export class StoreEventFollower {
  /**
   * Between the store's `interrupted` and `resync`: a revocation may not reach this process, so
   * every message reloads its session first.
   */
  interrupted = false
  readonly #sessions: SessionManager<UserSession>
  readonly #bindings: ConnectionBindings
  readonly #upgrades: PendingUpgrades
  readonly #logger: Logger
  readonly #unsubscribe: () => void

  constructor(sessions: SessionManager<UserSession>, bindings: ConnectionBindings, upgrades: PendingUpgrades, logger: Logger) {
    this.#sessions = sessions
    this.#bindings = bindings
    this.#upgrades = upgrades
    this.#logger = logger
    this.#unsubscribe = sessions.subscribe((event) => this.#onEvent(event))
  }

  close(): void {
    this.#unsubscribe()
  }

  /** Reads one bound session and handles what is found as the event that may have been missed. */
  recheck(id: string): void {
    this.#sessions.loadById(id).then(
      (record) => {
        if (record === undefined) this.#sessionDeleted(id, SESSION_CLEARED_EVENT)
        else this.#sessionChanged(id, record.version, record.expiresAt)
      },
      (error: unknown) => {
        // Unknown for now: the reload before the next message decides, and fails while the store is down.
        this.#logger.warn('could not re-check a connected session after the store resynced; reloading it at its next message', { error })
        const set = this.#bindings.boundTo(id)
        if (set !== undefined) for (const binding of set) binding.stale = true
      },
    )
  }

  #onEvent(event: SessionEvent): void {
    switch (event.type) {
      case 'deleted':
        this.#upgrades.sessionDeleted(event.id)
        this.#sessionDeleted(event.id, event.reason === 'revoked' ? SESSION_REVOKED_EVENT : SESSION_CLEARED_EVENT)
        return
      case 'changed':
        this.#sessionChanged(event.id, event.version, event.expiresAt)
        return
      case 'interrupted':
        // Until the resync, every message reloads its session first (and fails while the store is
        // unreachable): a logout elsewhere must never be answered with the user's data meanwhile.
        if (!this.interrupted) this.#logger.warn('session store events interrupted; connected sessions are re-checked before each message until they resume')
        this.interrupted = true
        return
      case 'resync':
        if (this.interrupted) this.#logger.info('session store events resumed; re-checking connected sessions once')
        this.interrupted = false
        // Events were lost while the store's delivery was down: one read per connected session
        // (not per connection, not per message) finds the revocations and changes it missed.
        this.#upgrades.resynced()
        for (const id of this.#bindings.boundIds()) this.recheck(id)
        return
    }
  }

  /** The stored session `id` is gone: its connections end it. */
  #sessionDeleted(id: string, ended: SessionEndedEvent): void {
    const set = this.#bindings.boundTo(id)
    if (set === undefined) return
    for (const binding of [...set]) {
      // A connection whose own call is logging out or logging in again is moving off this id;
      // the commit re-indexes it, and the client learns from the reply, not from an event. Should
      // that call fail instead, the reload before its next message finds the session gone.
      if (binding.connection.session.sessionId !== id) {
        binding.stale = true
        continue
      }
      this.#bindings.end(binding, ended)
    }
  }

  /** The stored session `id` is now at `version`, expiring at `expiresAt`. */
  #sessionChanged(id: string, version: number, expiresAt: number): void {
    const set = this.#bindings.boundTo(id)
    if (set === undefined) return
    for (const binding of set) {
      if (version > binding.seenVersion) binding.seenVersion = version
      const baselineVersion = binding.connection.session.baseline?.version ?? 0
      if (binding.seenVersion > baselineVersion) binding.stale = true
      if (expiresAt < binding.expiresAt) {
        binding.expiresAt = expiresAt
        this.#bindings.schedule(binding)
      } else {
        binding.expiresAt = expiresAt
      }
    }
  }
}
