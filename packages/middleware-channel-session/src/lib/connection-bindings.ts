import type { ChannelConnection } from '@pikku/channel'
import type { CredentialInput, Logger, SessionManager, SessionRecord, UserSession } from '@pikku/core'
import type { SessionState } from '@pikku/core/protocol'
import { MAX_TIMER_DELAY, type ChannelSessionTimers } from './session-timers.js'

/** The `{ "event": "session" }` payload a connection receives when its session ends elsewhere. */
export const SESSION_CLEARED_EVENT = { state: 'cleared' } as const
/** The payload when the store says the session was revoked (`sessions.revoke…`, "sign out that device"). */
export const SESSION_REVOKED_EVENT = { state: 'revoked' } as const

export type SessionEndedEvent = typeof SESSION_CLEARED_EVENT | typeof SESSION_REVOKED_EVENT

/** What this package tracks for one connection; the session itself is the connection's state. */
export class Binding {
  /** The stored session id the connection is indexed under, if any. */
  id: string | undefined = undefined
  /**
   * For a stored session, when it expires as far as this process knows. For a transient one, when
   * its credential is to be verified again. Infinity otherwise.
   */
  expiresAt = Number.POSITIVE_INFINITY
  /** Highest version announced by the store for `id`. */
  seenVersion = 0
  /** A change made elsewhere was announced: reload before the next message. */
  stale = false
  timer: unknown = undefined
  timerDue = Number.POSITIVE_INFINITY
  closed = false
  /**
   * A session no store backs (from an API key or a stateless token): the value a failed call falls
   * back to, and the credential that named it (for `userId`), verified again every
   * `transientRecheckInterval`.
   */
  transient: { session: UserSession; readonly credential: CredentialInput; readonly userId: string } | undefined = undefined
  /** The verification of `transient` under way, shared by the timer and a message that needs it. */
  verifying: Promise<void> | undefined = undefined

  constructor(readonly connection: ChannelConnection) {}
}

/**
 * The connections with a session, indexed by stored session id (the revocation index), with a
 * timer per connection at its session's expiry or next verification. A connection's binding is
 * found from its `SessionState`, which every message carries.
 */
export class ConnectionBindings {
  readonly #bindings = new WeakMap<SessionState<UserSession>, Binding>()
  readonly #index = new Map<string, Set<Binding>>()
  /** Connections holding a transient session (not in the index: no store id names them). */
  readonly #transient = new Set<Binding>()
  readonly #sessions: SessionManager<UserSession>
  readonly #timers: ChannelSessionTimers
  readonly #clock: () => number
  readonly #logger: Logger
  readonly #verifyDue: (binding: Binding) => void

  /** `verifyDue` is called when the credential of a transient session is due to be verified again. */
  constructor(sessions: SessionManager<UserSession>, timers: ChannelSessionTimers, logger: Logger, verifyDue: (binding: Binding) => void) {
    this.#sessions = sessions
    this.#timers = timers
    this.#clock = sessions.clock
    this.#logger = logger
    this.#verifyDue = verifyDue
  }

  of(state: SessionState<UserSession>): Binding | undefined {
    return this.#bindings.get(state)
  }

  add(connection: ChannelConnection): Binding {
    const binding = new Binding(connection)
    this.#bindings.set(connection.session, binding)
    return binding
  }

  remove(connection: ChannelConnection): void {
    const binding = this.#bindings.get(connection.session)
    if (binding === undefined) return
    binding.closed = true
    this.unbind(binding)
    this.forgetTransient(binding)
    this.#bindings.delete(connection.session)
  }

  /** The connections bound to the stored session `id`. */
  boundTo(id: string): ReadonlySet<Binding> | undefined {
    return this.#index.get(id)
  }

  /** Stored session ids with at least one connection. */
  boundIds(): string[] {
    return [...this.#index.keys()]
  }

  get boundSessionCount(): number {
    return this.#index.size
  }

  /** Indexes `binding` under `record` (after a login or at connect) and tracks its expiry. */
  bind(binding: Binding, record: SessionRecord<UserSession>): void {
    if (binding.id !== record.id) {
      this.unbind(binding)
      binding.id = record.id
      let set = this.#index.get(record.id)
      if (set === undefined) this.#index.set(record.id, (set = new Set()))
      set.add(binding)
      binding.seenVersion = record.version
    }
    this.track(binding, record)
  }

  unbind(binding: Binding): void {
    const id = binding.id
    if (id === undefined) return
    binding.id = undefined
    binding.stale = false
    binding.expiresAt = Number.POSITIVE_INFINITY
    const set = this.#index.get(id)
    if (set !== undefined) {
      set.delete(binding)
      if (set.size === 0) this.#index.delete(id)
    }
    this.#disarm(binding)
  }

  /** Adopts what the connection now knows of its stored session (after a commit or reload). */
  track(binding: Binding, record: SessionRecord<UserSession>): void {
    binding.expiresAt = record.expiresAt
    if (binding.seenVersion < record.version) binding.seenVersion = record.version
    binding.stale = binding.seenVersion > record.version
    this.schedule(binding)
  }

  /** The connection now holds a transient session; its credential is verified again at `verifyAt`. */
  holdTransient(binding: Binding, session: UserSession, credential: CredentialInput, verifyAt: number): void {
    this.unbind(binding)
    binding.transient = { session, credential, userId: session.userId }
    binding.expiresAt = verifyAt
    this.#transient.add(binding)
    this.schedule(binding)
  }

  /** The connection no longer holds the transient session (logged out or in, or the credential failed). */
  forgetTransient(binding: Binding): void {
    if (binding.transient === undefined) return
    binding.transient = undefined
    binding.verifying = undefined
    this.#transient.delete(binding)
    if (binding.id === undefined) {
      binding.expiresAt = Number.POSITIVE_INFINITY
      this.#disarm(binding)
    }
  }

  /** The connection's session ended elsewhere: empty it and tell the client (how, when known). */
  end(binding: Binding, ended: SessionEndedEvent = SESSION_CLEARED_EVENT): void {
    this.unbind(binding)
    this.forgetTransient(binding)
    binding.connection.session.reset()
    if (binding.connection.isOpen) binding.connection.send('session', ended)
  }

  /** Arms (or keeps) the timer for `binding.expiresAt`. */
  schedule(binding: Binding): void {
    if (binding.closed || (binding.id === undefined && binding.transient === undefined) || binding.expiresAt === Number.POSITIVE_INFINITY) return
    // An armed timer that fires no later than needed is kept: it re-arms itself if the session
    // was renewed meanwhile, so renewals do not cost a timer each.
    if (binding.timer !== undefined && binding.timerDue <= binding.expiresAt) return
    if (binding.timer !== undefined) this.#timers.clear(binding.timer)
    const now = this.#clock()
    const delay = Math.min(Math.max(binding.expiresAt - now, 0), MAX_TIMER_DELAY)
    binding.timerDue = now + delay
    binding.timer = this.#timers.set(() => this.#fire(binding), delay)
  }

  /** Arms the timer `delayMs` from now whatever `expiresAt` says: to retry a verification that failed. */
  retryIn(binding: Binding, delayMs: number): void {
    if (binding.closed) return
    this.#disarm(binding)
    const delay = Math.min(delayMs, MAX_TIMER_DELAY)
    binding.timerDue = this.#clock() + delay
    binding.timer = this.#timers.set(() => this.#fire(binding), delay)
  }

  /** Cancels every timer (the handler is closing). */
  disarmAll(): void {
    for (const set of this.#index.values()) for (const binding of set) this.#disarm(binding)
    for (const binding of this.#transient) this.#disarm(binding)
  }

  #disarm(binding: Binding): void {
    if (binding.timer === undefined) return
    this.#timers.clear(binding.timer)
    binding.timer = undefined
    binding.timerDue = Number.POSITIVE_INFINITY
  }

  #fire(binding: Binding): void {
    binding.timer = undefined
    binding.timerDue = Number.POSITIVE_INFINITY
    if (binding.closed) return
    if (this.#clock() < binding.expiresAt) {
      this.schedule(binding)
      return
    }
    const id = binding.id
    if (id !== undefined) this.#confirmExpiry(binding, id)
    else if (binding.transient !== undefined) this.#verifyDue(binding)
  }

  /**
   * Expired as far as this process knows. One store read confirms it: a renewal made through
   * another server may not have been announced here yet. Reading an expired session also deletes
   * it, and the resulting event ends it on every connection bound to it.
   */
  #confirmExpiry(binding: Binding, id: string): void {
    this.#sessions.loadById(id).then(
      (record) => {
        if (binding.id !== id) return
        if (record === undefined) {
          this.end(binding)
          return
        }
        if (record.version > binding.seenVersion) binding.seenVersion = record.version
        if (binding.seenVersion > (binding.connection.session.baseline?.version ?? 0)) binding.stale = true
        binding.expiresAt = record.expiresAt
        this.schedule(binding)
      },
      (error: unknown) => {
        this.#logger.warn('could not confirm the expiry of a connected session; ending it', { error })
        if (binding.id === id) this.end(binding)
      },
    )
  }
}
