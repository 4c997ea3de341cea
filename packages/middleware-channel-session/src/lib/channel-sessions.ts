import type { ChannelConnection, ChannelSessionHandler, ChannelUpgradeRequest } from '@pikku/channel'
import {
  ForbiddenError,
  silentLogger,
  type Logger,
  type PikkuMiddleware,
  type SessionCommitResult,
  type SessionEvent,
  type SessionManager,
  type SessionRecord,
  type SessionState,
  type UserSession,
} from '@pikku/core'
import { carriesCookie, createUpgradeOriginPolicy } from './origin-policy.js'
import { MAX_TIMER_DELAY, systemTimers, type ChannelSessionTimers } from './session-timers.js'
import { readSubprotocolToken } from './subprotocol-token.js'

/**
 * How upgrade credentials are verified. `createHTTPSessions()` from
 * `@pikku/middleware-http-session` has exactly this shape, so the socket accepts the same cookie
 * and bearer tokens as HTTP; any other verifier with this shape works too.
 */
export interface ChannelCredentials {
  /** The session named by the request's cookie (or `Authorization` header), if valid. */
  authenticate(header: (name: string) => string | undefined): Promise<{ readonly record: SessionRecord<UserSession>; readonly via: 'cookie' | 'bearer' } | undefined>
  /** The session a bearer token names, if the token is valid and the session live. */
  authenticateToken(token: string): Promise<SessionRecord<UserSession> | undefined>
  /** The session cookie's name; undefined when cookies are off. */
  readonly cookieName: string | undefined
}

export interface ChannelSessionsOptions {
  /** Core's session manager: the same one (and so the same store) HTTP uses. */
  sessions: SessionManager<UserSession>
  /** Verifies the cookie or bearer token offered at the upgrade: usually the app's `createHTTPSessions()`. */
  credentials: ChannelCredentials
  /**
   * Origins (`https://app.example.com`) whose pages may open a socket that carries the session
   * cookie, in addition to the server's own origin (scheme from the connection, host from `Host`).
   * Other origins get 403 before the upgrade.
   * @default [] (own origin only)
   */
  allowedOrigins?: readonly string[]
  /** Schedules the expiry of connected sessions. @default Node timers (unref'd) */
  timers?: ChannelSessionTimers
  /** @default silentLogger */
  logger?: Logger
}

/** The channel session handler plus what operators and tests need. */
/** What an upgrade found, handed by the channel runtime to `connected`. */
export interface ChannelSessionGrant {
  /** The session the credential named; undefined for an anonymous connection. */
  readonly record: SessionRecord<UserSession> | undefined
}

export interface ChannelSessions extends ChannelSessionHandler<ChannelSessionGrant> {
  /**
   * The same per-message work as the call hooks, as a middleware, for a runtime that runs only
   * middleware. `@pikku/channel` calls the hooks and does not run it.
   */
  readonly middleware: PikkuMiddleware
  beforeCall(connection: ChannelConnection): Promise<void> | undefined
  afterCall(connection: ChannelConnection): Promise<void> | undefined
  callFailed(connection: ChannelConnection, error: unknown): void
  /** Sessions with at least one connection bound to them. */
  readonly boundSessionCount: number
  /** Stops listening to the store's revocation events and cancels expiry timers. */
  close(): void
}

/** The `{ "event": "session" }` payload a connection receives when its session ends elsewhere. */
export const SESSION_CLEARED_EVENT = { state: 'cleared' } as const

/**
 * An upgrade in progress. It collects the sessions deleted while it runs: the credential may have
 * been checked just before its session was revoked, and the connection must not adopt a session
 * that has already ended.
 */
class Grant implements ChannelSessionGrant {
  record: SessionRecord<UserSession> | undefined = undefined
  deleted: Set<string> | undefined = undefined
  /** The store resynced while the upgrade ran: a deletion of its session may have been missed. */
  recheck = false
}

/** What this package tracks for one connection; the session itself is the connection's state. */
class Binding {
  /** The stored session id the connection is indexed under, if any. */
  id: string | undefined = undefined
  expiresAt = Number.POSITIVE_INFINITY
  /** Highest version announced by the store for `id`. */
  seenVersion = 0
  /** A change made elsewhere was announced: reload before the next message. */
  stale = false
  timer: unknown = undefined
  timerDue = Number.POSITIVE_INFINITY
  closed = false
  // Made once per connection, so a message allocates no callbacks of its own.
  readonly succeeded: () => Promise<void> | undefined
  readonly failed: (error: unknown) => never

  constructor(
    readonly connection: ChannelConnection,
    afterSuccess: (binding: Binding) => Promise<void> | undefined,
    rollback: (state: SessionState<UserSession>) => void,
  ) {
    this.succeeded = () => afterSuccess(this)
    this.failed = (error) => {
      rollback(connection.session)
      throw error
    }
  }
}

/**
 * Connection sessions for WebSocket channels: the credential is read once, at the upgrade, and the
 * connection keeps one `SessionState` for its life. Changes made on the socket are persisted after
 * each message; revocation, logout and expiry elsewhere reach the socket through the store's
 * events, so no message needs a store round trip to stay correct.
 */
export function createChannelSessions(options: ChannelSessionsOptions): ChannelSessions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createChannelSessions needs { sessions, credentials }')
  }
  const { sessions, credentials } = options
  if (sessions === undefined || typeof sessions.commit !== 'function' || typeof sessions.subscribe !== 'function') {
    throw new TypeError('createChannelSessions needs { sessions }: the session manager from createSessionManager({ store }) that HTTP uses')
  }
  if (credentials === undefined || typeof credentials.authenticate !== 'function' || typeof credentials.authenticateToken !== 'function') {
    throw new TypeError('createChannelSessions needs { credentials }: pass the app\'s createHTTPSessions(...) so the socket accepts the same cookie and tokens')
  }
  const originPolicy = createUpgradeOriginPolicy(options.allowedOrigins ?? [], 'allowedOrigins')
  const timers = options.timers ?? systemTimers
  const logger = options.logger ?? silentLogger
  const clock = sessions.clock
  const renewalInterval = sessions.renewalInterval

  const bindings = new WeakMap<SessionState<UserSession>, Binding>()
  /** Revocation index: stored session id → the connections using it. */
  const index = new Map<string, Set<Binding>>()
  const activeGrants = new Set<Grant>()
  let closed = false
  // Between the store's `interrupted` and `resync`: a revocation may not reach this process, so no
  // connection's session is trusted without asking the store.
  let interrupted = false

  const bind = (binding: Binding, record: SessionRecord<UserSession>): void => {
    if (binding.id !== record.id) {
      unbind(binding)
      binding.id = record.id
      let set = index.get(record.id)
      if (set === undefined) index.set(record.id, (set = new Set()))
      set.add(binding)
      binding.seenVersion = record.version
    }
    track(binding, record)
  }

  const unbind = (binding: Binding): void => {
    const id = binding.id
    if (id === undefined) return
    binding.id = undefined
    binding.stale = false
    binding.expiresAt = Number.POSITIVE_INFINITY
    const set = index.get(id)
    if (set !== undefined) {
      set.delete(binding)
      if (set.size === 0) index.delete(id)
    }
    if (binding.timer !== undefined) {
      timers.clear(binding.timer)
      binding.timer = undefined
      binding.timerDue = Number.POSITIVE_INFINITY
    }
  }

  /** Adopts what the connection now knows of its stored session (after a commit or reload). */
  const track = (binding: Binding, record: SessionRecord<UserSession>): void => {
    binding.expiresAt = record.expiresAt
    if (binding.seenVersion < record.version) binding.seenVersion = record.version
    binding.stale = binding.seenVersion > record.version
    schedule(binding)
  }

  const schedule = (binding: Binding): void => {
    if (binding.closed || binding.id === undefined) return
    // An armed timer that fires no later than needed is kept: it re-arms itself if the session
    // was renewed meanwhile, so renewals do not cost a timer each.
    if (binding.timer !== undefined && binding.timerDue <= binding.expiresAt) return
    if (binding.timer !== undefined) timers.clear(binding.timer)
    const delay = Math.min(Math.max(binding.expiresAt - clock(), 0), MAX_TIMER_DELAY)
    binding.timerDue = clock() + delay
    binding.timer = timers.set(() => onTimer(binding), delay)
  }

  /** The connection's session ended elsewhere: empty it and tell the client. */
  const endSession = (binding: Binding): void => {
    unbind(binding)
    binding.connection.session.reset()
    if (binding.connection.isOpen) binding.connection.send('session', SESSION_CLEARED_EVENT)
  }

  const onTimer = (binding: Binding): void => {
    binding.timer = undefined
    binding.timerDue = Number.POSITIVE_INFINITY
    const id = binding.id
    if (binding.closed || id === undefined) return
    if (clock() < binding.expiresAt) {
      schedule(binding)
      return
    }
    // Expired as far as this process knows. One store read confirms it: a renewal made through
    // another server may not have been announced here yet. Reading an expired session also
    // deletes it, and the resulting event ends it on every connection bound to it.
    sessions.loadById(id).then(
      (record) => {
        if (binding.id !== id) return
        if (record === undefined) {
          endSession(binding)
          return
        }
        if (record.version > binding.seenVersion) binding.seenVersion = record.version
        if (binding.seenVersion > (binding.connection.session.baseline?.version ?? 0)) binding.stale = true
        binding.expiresAt = record.expiresAt
        schedule(binding)
      },
      (error: unknown) => {
        logger.warn('could not confirm the expiry of a connected session; ending it', { error })
        if (binding.id === id) endSession(binding)
      },
    )
  }

  /** The stored session `id` is gone: its connections end it. */
  const sessionDeleted = (id: string): void => {
    const set = index.get(id)
    if (set === undefined) return
    for (const binding of [...set]) {
      // A connection whose own call is logging out or logging in again is moving off this id;
      // the commit re-indexes it, and the client learns from the reply, not from an event. Should
      // that call fail instead, the reload before its next message finds the session gone.
      if (binding.connection.session.sessionId !== id) {
        binding.stale = true
        continue
      }
      endSession(binding)
    }
  }

  /** The stored session `id` is now at `version`, expiring at `expiresAt`. */
  const sessionChanged = (id: string, version: number, expiresAt: number): void => {
    const set = index.get(id)
    if (set === undefined) return
    for (const binding of set) {
      if (version > binding.seenVersion) binding.seenVersion = version
      const baselineVersion = binding.connection.session.baseline?.version ?? 0
      if (binding.seenVersion > baselineVersion) binding.stale = true
      if (expiresAt < binding.expiresAt) {
        binding.expiresAt = expiresAt
        schedule(binding)
      } else {
        binding.expiresAt = expiresAt
      }
    }
  }

  /** Reads one bound session and handles what is found as the event that may have been missed. */
  const recheck = (id: string): void => {
    sessions.loadById(id).then(
      (record) => {
        if (record === undefined) sessionDeleted(id)
        else sessionChanged(id, record.version, record.expiresAt)
      },
      (error: unknown) => {
        // Unknown for now: the reload before the next message decides, and fails while the store is down.
        logger.warn('could not re-check a connected session after the store resynced; reloading it at its next message', { error })
        const set = index.get(id)
        if (set !== undefined) for (const binding of set) binding.stale = true
      },
    )
  }

  const onEvent = (event: SessionEvent): void => {
    switch (event.type) {
      case 'deleted':
        for (const grant of activeGrants) (grant.deleted ??= new Set()).add(event.id)
        sessionDeleted(event.id)
        return
      case 'changed':
        sessionChanged(event.id, event.version, event.expiresAt)
        return
      case 'interrupted':
        // Until the resync, every message reloads its session first (and fails while the store is
        // unreachable): a logout elsewhere must never be answered with the user's data meanwhile.
        if (!interrupted) logger.warn('session store events interrupted; connected sessions are re-checked before each message until they resume')
        interrupted = true
        return
      case 'resync':
        if (interrupted) logger.info('session store events resumed; re-checking connected sessions once')
        interrupted = false
        // Events were lost while the store's delivery was down: one read per connected session
        // (not per connection, not per message) finds the revocations and changes it missed.
        for (const grant of activeGrants) grant.recheck = true
        for (const id of [...index.keys()]) recheck(id)
        return
    }
  }

  const unsubscribe = sessions.subscribe(onEvent)

  const authenticateUpgrade = async (request: ChannelUpgradeRequest): Promise<SessionRecord<UserSession> | undefined> => {
    const token = readSubprotocolToken(request.protocols)
    // A bearer token offered in the subprotocol is used exclusively (the cookie is ignored, so a
    // client never silently acts as someone else); a bad one makes an anonymous connection.
    if (token !== undefined) return credentials.authenticateToken(token)
    const cookieName = credentials.cookieName
    // Checked whenever the cookie is present, valid or not: answering a foreign page differently
    // for logged-in and logged-out visitors would tell it which one it has.
    const cookieSent = cookieName !== undefined && carriesCookie(request.header('cookie'), cookieName)
    if (cookieSent && !originPolicy.allows(request)) throw originRefused(request.header('origin'))
    const found = await credentials.authenticate(request.header)
    if (found === undefined) return undefined
    if (found.via === 'cookie' && !cookieSent && !originPolicy.allows(request)) throw originRefused(request.header('origin'))
    return found.record
  }

  /**
   * Reloads the connection's session from the store (after a change elsewhere, at expiry, or before
   * every message while the store's events are interrupted).
   */
  const reload = async (binding: Binding, state: SessionState<UserSession>): Promise<void> => {
    const id = binding.id!
    const record = await sessions.loadById(id)
    if (binding.id !== id) return
    if (record === undefined || record.userId !== state.current?.userId) {
      endSession(binding)
      return
    }
    state.resume(record)
    track(binding, record)
  }

  const rollback = (state: SessionState<UserSession>): void => {
    // A failed call persists nothing (as on HTTP); the connection's state forgets what it did.
    if (!state.changed || state.transient) return
    const baseline = state.baseline
    if (baseline !== undefined) state.resume(baseline)
    else state.reset()
  }

  const settle = (binding: Binding, state: SessionState<UserSession>, result: SessionCommitResult): void => {
    switch (result.kind) {
      case 'created':
        // A login: the connection now answers to the new id (and the old one was deleted).
        if (binding.closed) return
        bind(binding, state.baseline ?? (result.record as SessionRecord<UserSession>))
        return
      case 'updated':
      case 'renewed':
        if (state.baseline !== undefined && binding.id !== undefined) track(binding, state.baseline)
        return
      case 'cleared':
        unbind(binding)
        return
      case 'revoked':
        if (binding.id !== undefined) endSession(binding)
        return
      case 'unchanged':
        return
    }
  }

  /** After a successful call: persist what it did, if anything. */
  const persist = async (binding: Binding, state: SessionState<UserSession>): Promise<void> => {
    let result: SessionCommitResult
    try {
      result = await sessions.commit(state)
    } catch (error) {
      rollback(state)
      // What is stored is unknown now (a conflict, an outage): read it again before the next message.
      if (binding.id !== undefined) binding.stale = true
      throw error
    }
    settle(binding, state, result)
  }

  /** After a successful call; costs nothing when the call left the session as it was. */
  const afterSuccess = (binding: Binding): Promise<void> | undefined => {
    const state = binding.connection.session
    if (!state.changed) {
      const baseline = state.baseline
      // Nothing to write and no renewal due: the common case, with no store call at all.
      if (baseline === undefined || clock() - baseline.lastActiveAt < renewalInterval) return undefined
    }
    return persist(binding, state)
  }

  // Written without async/await: this runs around every message, and each async frame is a
  // measurable share of a call that otherwise does no I/O.
  const middleware: PikkuMiddleware = (_services, wire, next) => {
    const state = wire.session
    const binding = bindings.get(state)
    // Not a connection of ours (another protocol, or a channel without this handler).
    if (binding === undefined) return next()
    if (binding.id !== undefined && (interrupted || binding.stale || clock() >= binding.expiresAt)) {
      return reload(binding, state).then(() => next().then(binding.succeeded, binding.failed))
    }
    return next().then(binding.succeeded, binding.failed)
  }

  return {
    middleware,

    // The hooks do what the middleware does, without the runner's middleware path around the call.
    beforeCall(connection) {
      const state = connection.session
      const binding = bindings.get(state)
      if (binding === undefined || binding.id === undefined || !(interrupted || binding.stale || clock() >= binding.expiresAt)) return undefined
      return reload(binding, state)
    },

    afterCall(connection) {
      const binding = bindings.get(connection.session)
      return binding === undefined ? undefined : afterSuccess(binding)
    },

    callFailed(connection) {
      if (bindings.has(connection.session)) rollback(connection.session)
    },

    async upgrade(request) {
      if (closed) throw new Error('createChannelSessions: this handler was closed')
      const grant = new Grant()
      activeGrants.add(grant)
      try {
        grant.record = await authenticateUpgrade(request)
      } finally {
        // The runtime opens the connection (and calls connected) in the microtasks that follow;
        // by the next macrotask the grant has been used or the handshake abandoned.
        setImmediate(() => activeGrants.delete(grant))
      }
      return grant
    },

    connected(connection, grant) {
      const binding = new Binding(connection, afterSuccess, rollback)
      bindings.set(connection.session, binding)
      const record = grant?.record
      if (record !== undefined && !closed && (grant as Grant).deleted?.has(record.id) !== true) {
        connection.session.resume(record)
        bind(binding, record)
        if ((grant as Grant).recheck) recheck(record.id)
      }
      activeGrants.delete(grant as Grant)
    },

    disconnected(connection) {
      const binding = bindings.get(connection.session)
      if (binding === undefined) return
      binding.closed = true
      unbind(binding)
      bindings.delete(connection.session)
    },

    get boundSessionCount() {
      return index.size
    },

    close() {
      if (closed) return
      closed = true
      unsubscribe()
      for (const set of index.values()) {
        for (const binding of set) {
          if (binding.timer !== undefined) timers.clear(binding.timer)
          binding.timer = undefined
        }
      }
    },
  }
}

function originRefused(origin: string | undefined): ForbiddenError {
  return new ForbiddenError(
    `WebSocket refused: the upgrade carries the session cookie but comes from ${origin === undefined ? 'a page that did not say its origin' : `origin ${origin}`}, ` +
      'which is not allowed. Open the socket from the same origin, or add the origin to allowedOrigins.',
  )
}
