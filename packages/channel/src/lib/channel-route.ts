import { UnauthorizedError, type AnyPikkuFunction, type PikkuMiddleware } from '@pikku/core'
import { functionName } from '@pikku/core/protocol'
import type { ChannelConnection } from './channel-wire.js'
import type { ChannelUpgradeRequest } from './upgrade-request.js'

/**
 * How a channel's connections get and keep a user session. `@pikku/middleware-channel-session`
 * provides one backed by the session store; anything with this shape works.
 *
 * The runtime calls `upgrade` before the WebSocket handshake completes (throw a `PikkuError` to
 * refuse: the client gets that code's HTTP status and no connection), `connected` once the
 * connection is open with whatever `upgrade` returned, `disconnected` when it closes.
 *
 * Around every message it calls the call hooks, outside all middleware: `beforeCall`, then the
 * call, then `afterCall` or `callFailed`. A message that has nothing to load or persist costs two
 * plain calls (decision 012); a middleware would cost the runner's middleware path and its
 * promises on every message. Work that needs services or the wire belongs in the channel's
 * `middleware` instead.
 */
export interface ChannelSessionHandler<Grant = unknown> {
  upgrade?(request: ChannelUpgradeRequest): Grant | Promise<Grant>
  connected?(connection: ChannelConnection, grant: Grant): void
  disconnected?(connection: ChannelConnection): void
  /**
   * Before each message's call, ahead of all middleware. Return undefined to go ahead at once, or
   * a promise the call waits for (a reload of the session, say). If it rejects, the call does not
   * run and the client gets the error as the reply.
   */
  beforeCall?(connection: ChannelConnection): Promise<void> | undefined
  /**
   * After a call succeeded, after all middleware, before the reply is sent (persist what the call
   * changed). A promise delays the reply; if it rejects, the client gets the error instead of the
   * result.
   */
  afterCall?(connection: ChannelConnection): Promise<void> | undefined
  /** After a call failed (the function or a middleware threw), before the error reply is sent. */
  callFailed?(connection: ChannelConnection, error: unknown): void
}

/** Whether the runtime has any call hook of the handler to call around each message. */
function hasCallHooks(handler: ChannelSessionHandler | undefined): boolean {
  return handler !== undefined && (typeof handler.beforeCall === 'function' || typeof handler.afterCall === 'function' || typeof handler.callFailed === 'function')
}

export interface ChannelCloseInfo {
  readonly code: number
  readonly reason: string
}

export interface ChannelOptions {
  /** The path the channel answers upgrades on, e.g. `/ws`. The query string is ignored. */
  route: string
  /**
   * The functions callable on this channel, by name: a request's `func` is the function's own
   * `name`, else the key it is registered under here.
   */
  functions: Readonly<Record<string, AnyPikkuFunction>>
  /**
   * Require a session for every function on this channel, even sessionless ones. Connections are
   * still accepted anonymously (so that they can log in); calls without a session get
   * `UNAUTHORIZED`.
   * @default false (each function's own requirement)
   */
  auth?: boolean
  /** Where connections get their session (see `ChannelSessionHandler`). @default none: anonymous connections whose sessions are never persisted */
  session?: ChannelSessionHandler
  /** Channel middleware, run per message inside the session handler's call hooks and outside global middleware. @default [] */
  middleware?: readonly PikkuMiddleware[]
  /**
   * Runs once the connection is open (after the session handler's `connected`), before its first
   * message is handled. Throwing a `PikkuError` closes the connection with 1008 and its message.
   */
  onConnect?: (connection: ChannelConnection) => void | Promise<void>
  /** Runs once when the connection has closed. */
  onDisconnect?: (connection: ChannelConnection, close: ChannelCloseInfo) => void
}

/** A channel ready to be served by `createChannelServer`. */
export interface WiredChannel {
  readonly kind: 'pikku-channel'
  readonly route: string
  readonly functions: ReadonlyMap<string, AnyPikkuFunction>
  readonly session: ChannelSessionHandler | undefined
  /** The session handler has call hooks to call around each message (see `ChannelSessionHandler`). */
  readonly callHooks: boolean
  /** The auth check when `auth` is set, then channel middleware. */
  readonly protocolMiddleware: readonly PikkuMiddleware[]
  readonly onConnect: ChannelOptions['onConnect']
  readonly onDisconnect: ChannelOptions['onDisconnect']
}

const ROUTE = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/

// A channel can demand a session for sessionless functions; checked after the session loads.
const requireSession: PikkuMiddleware = async (_services, wire, next) => {
  if (wire.session.current === undefined) throw new UnauthorizedError()
  await next()
}

/** Declares a channel; validated now, not on the first connection. */
export function wireChannel(options: ChannelOptions): WiredChannel {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('wireChannel needs { route, functions }')
  }
  if (typeof options.route !== 'string' || !ROUTE.test(options.route)) {
    throw new TypeError(`wireChannel: route must be a path starting with '/' and without a query; got ${JSON.stringify(options.route)}`)
  }
  if (options.functions === null || typeof options.functions !== 'object') {
    throw new TypeError(`wireChannel: functions for ${options.route} must be an object of functions by name`)
  }
  const functions = new Map<string, AnyPikkuFunction>()
  for (const [key, fn] of Object.entries(options.functions)) {
    if (fn?.kind !== 'pikku-function') {
      throw new TypeError(`wireChannel: functions.${key} on ${options.route} must come from pikkuFunc or pikkuSessionlessFunc`)
    }
    const name = functionName(fn, key)
    if (functions.has(name)) throw new TypeError(`wireChannel: two functions named ${JSON.stringify(name)} on ${options.route}`)
    functions.set(name, fn)
  }
  const session = options.session
  if (session !== undefined && (session === null || typeof session !== 'object')) {
    throw new TypeError('wireChannel: session must be a channel session handler, e.g. from createChannelSessions()')
  }
  const middleware = options.middleware ?? []
  for (const entry of middleware) {
    if (typeof entry !== 'function') throw new TypeError(`wireChannel: middleware on ${options.route} must be functions`)
  }
  for (const hook of ['beforeCall', 'afterCall', 'callFailed'] as const) {
    if (session?.[hook] !== undefined && typeof session[hook] !== 'function') {
      throw new TypeError(`wireChannel: session.${hook} on ${options.route} must be a function`)
    }
  }
  // Session handlers lost their middleware in @pikku/channel 2; one written for version 1 would
  // otherwise run without its per-message work, silently.
  if (session !== undefined && (session as { middleware?: unknown }).middleware !== undefined && !hasCallHooks(session)) {
    throw new TypeError(
      `wireChannel: session.middleware on ${options.route} is not run: a session handler works per message through ` +
        'beforeCall, afterCall and callFailed. Move its work into those hooks, or into the channel\'s middleware option.',
    )
  }
  const callHooks = hasCallHooks(session)
  const protocolMiddleware: PikkuMiddleware[] = []
  if (options.auth === true) protocolMiddleware.push(requireSession)
  protocolMiddleware.push(...middleware)
  return Object.freeze({
    kind: 'pikku-channel' as const,
    route: options.route,
    functions,
    session,
    callHooks,
    protocolMiddleware: Object.freeze(protocolMiddleware),
    onConnect: options.onConnect,
    onDisconnect: options.onDisconnect,
  })
}
