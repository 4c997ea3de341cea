import type { ChannelConnection, ChannelSessionHandler, ChannelUpgradeRequest } from '@pikku/channel'
import { silentLogger, type Logger, type SessionAuthenticator, type SessionManager, type UserSession } from '@pikku/core'
import { adoptAuthentication } from '@pikku/core/protocol'
import { createCallHooks } from './call-hooks.js'
import { ConnectionBindings } from './connection-bindings.js'
import { authenticatorFromCredentials, type ChannelCredentials } from './legacy-credentials.js'
import { systemTimers, type ChannelSessionTimers } from './session-timers.js'
import { StoreEventFollower } from './store-events.js'
import { createTransientSessions } from './transient-sessions.js'
import { createUpgradeAuthentication } from './upgrade-authentication.js'
import { PendingUpgrades, type ChannelSessionGrant, type UpgradeGrant } from './upgrade-grants.js'

export interface ChannelSessionsOptions {
  /** Core's session manager: the same one (and so the same store) HTTP uses. */
  sessions: SessionManager<UserSession>
  /**
   * Verifies the credential offered at the upgrade: the subprotocol token as `{ token }`, else the
   * upgrade's headers as `{ header }`. Usually the authenticator of the app's HTTP strategy, so the
   * socket accepts the same cookie and tokens; `firstAuthenticated(...)` combines several (API
   * keys and cookies, say). Required unless the deprecated `credentials` is given.
   */
  authenticator?: SessionAuthenticator<UserSession>
  /**
   * The version-1 verifier (`{ authenticate, authenticateToken, cookieName }`), read through the
   * authenticator interface.
   * @deprecated Pass `authenticator`; accepted for this major version only.
   * @default undefined
   */
  credentials?: ChannelCredentials
  /**
   * Origins (`https://app.example.com`) whose pages may open a socket that carries a session
   * cookie (one of `authenticator.cookieNames`), in addition to the server's own origin (scheme
   * from the connection, host from `Host`). Other origins get 403 before the upgrade.
   * @default [] (own origin only)
   */
  allowedOrigins?: readonly string[]
  /**
   * How often (ms) the credential of a connection with a session no store backs (an API key, a
   * stateless token) is verified again with the authenticator; a credential that no longer names
   * the user ends the connection's session. `Infinity` trusts it for the connection's life.
   * @default 60_000 (one minute)
   */
  transientRecheckInterval?: number
  /** Schedules the expiry of connected sessions. @default Node timers (unref'd) */
  timers?: ChannelSessionTimers
  /** @default silentLogger */
  logger?: Logger
}

/** The channel session handler plus what operators and tests need. */
export interface ChannelSessions extends ChannelSessionHandler<ChannelSessionGrant> {
  beforeCall(connection: ChannelConnection): Promise<void> | undefined
  afterCall(connection: ChannelConnection): Promise<void> | undefined
  callFailed(connection: ChannelConnection, error: unknown): void
  /** Sessions in the store with at least one connection bound to them. */
  readonly boundSessionCount: number
  /** Stops listening to the store's revocation events and cancels expiry timers. */
  close(): void
}

/**
 * Connection sessions for WebSocket channels: the credential is read once, at the upgrade, and the
 * connection keeps one `SessionState` for its life. Changes made on the socket are persisted after
 * each message; revocation, logout and expiry elsewhere reach the socket through the store's
 * events, so no message needs a store round trip to stay correct.
 */
export function createChannelSessions(options: ChannelSessionsOptions): ChannelSessions {
  const { sessions, authenticator, allowedOrigins, transientRecheckInterval, timers, logger } = resolveOptions(options)
  const upgrades = new PendingUpgrades()
  const bindings: ConnectionBindings = new ConnectionBindings(sessions, timers, logger, (binding) => transient.verifyInBackground(binding))
  const transient = createTransientSessions(authenticator, bindings, sessions.clock, transientRecheckInterval, logger)
  const events = new StoreEventFollower(sessions, bindings, upgrades, logger)
  const upgradeAuthentication = createUpgradeAuthentication(authenticator, allowedOrigins, logger)
  const hooks = createCallHooks(sessions, bindings, events, transient)
  let closed = false

  const upgrade = async (request: ChannelUpgradeRequest): Promise<ChannelSessionGrant> => {
    if (closed) throw new Error('createChannelSessions: this handler was closed')
    const grant = upgrades.begin()
    try {
      const { found, input } = await upgradeAuthentication.authenticate(request)
      if (found.outcome === 'refused') {
        sessions.refused({ credential: found.credential, reason: found.reason, protocol: 'channel', address: request.clientAddress })
      }
      grant.authentication = found
      grant.credential = input
    } finally {
      // The runtime opens the connection (and calls connected) in the microtasks that follow;
      // by the next macrotask the grant has been used or the handshake abandoned.
      setImmediate(() => upgrades.end(grant))
    }
    return grant
  }

  const connected = (connection: ChannelConnection, given: ChannelSessionGrant): void => {
    // For session.list() and session.revoke() in the socket's functions.
    connection.session.useInventory(sessions)
    const binding = bindings.add(connection)
    const grant = given as UpgradeGrant | undefined
    if (grant?.authentication === undefined) return
    upgrades.end(grant)
    const found = grant.authentication
    if (closed) return
    if (found.outcome === 'stored') {
      // Revoked while the upgrade ran: the connection opens anonymous.
      if (grant.deleted?.has(found.record.id) === true) return
      adoptAuthentication(connection.session, found)
      bindings.bind(binding, found.record)
      if (grant.recheck) events.recheck(found.record.id)
    } else if (found.outcome === 'transient' && grant.credential !== undefined) {
      adoptAuthentication(connection.session, found)
      transient.adopt(binding, found.session, grant.credential)
    }
  }

  return {
    beforeCall: hooks.beforeCall,
    afterCall: hooks.afterCall,
    callFailed: hooks.callFailed,
    upgrade,
    connected,
    disconnected: (connection) => bindings.remove(connection),
    get boundSessionCount() {
      return bindings.boundSessionCount
    },
    close() {
      if (closed) return
      closed = true
      events.close()
      bindings.disarmAll()
    },
  }
}

interface ResolvedOptions {
  readonly sessions: SessionManager<UserSession>
  readonly authenticator: SessionAuthenticator<UserSession>
  readonly allowedOrigins: readonly string[]
  readonly transientRecheckInterval: number
  readonly timers: ChannelSessionTimers
  readonly logger: Logger
}

/** Checks the options once, when the factory is called, with messages that say what to change. */
function resolveOptions(options: ChannelSessionsOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createChannelSessions needs { sessions, authenticator }')
  }
  const { sessions, credentials } = options
  if (sessions === undefined || typeof sessions.commit !== 'function' || typeof sessions.subscribe !== 'function') {
    throw new TypeError('createChannelSessions needs { sessions }: the session manager from createSessionManager({ store }) that HTTP uses')
  }
  if (options.authenticator !== undefined && credentials !== undefined) {
    throw new TypeError('createChannelSessions takes authenticator or the deprecated credentials, not both: pass only authenticator')
  }
  let authenticator = options.authenticator
  if (authenticator === undefined && credentials !== undefined) {
    if (credentials === null || typeof credentials.authenticate !== 'function' || typeof credentials.authenticateToken !== 'function') {
      throw new TypeError('createChannelSessions: credentials must have authenticate(header) and authenticateToken(token); pass authenticator instead')
    }
    authenticator = authenticatorFromCredentials(credentials)
  }
  if (authenticator === undefined || authenticator === null || typeof authenticator.authenticate !== 'function') {
    throw new TypeError(
      "createChannelSessions needs { authenticator }: pass the authenticator of the app's HTTP strategy so the socket accepts the same cookie and tokens " +
        '(any SessionAuthenticator from @pikku/core works)',
    )
  }
  const cookieNames = authenticator.cookieNames
  if (cookieNames !== undefined && (!Array.isArray(cookieNames) || !cookieNames.every((name) => typeof name === 'string' && name.length > 0))) {
    throw new TypeError('createChannelSessions: authenticator.cookieNames must be an array of cookie names')
  }
  const transientRecheckInterval = options.transientRecheckInterval ?? 60_000
  if (typeof transientRecheckInterval !== 'number' || Number.isNaN(transientRecheckInterval) || transientRecheckInterval <= 0) {
    throw new RangeError(`createChannelSessions: transientRecheckInterval must be a positive number of milliseconds, or Infinity; got ${String(transientRecheckInterval)}`)
  }
  return {
    sessions,
    authenticator,
    allowedOrigins: options.allowedOrigins ?? [],
    transientRecheckInterval,
    timers: options.timers ?? systemTimers,
    logger: options.logger ?? silentLogger,
  }
}
