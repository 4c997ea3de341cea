import {
  type Clock,
  type CoreUserSession,
  type Logger,
  type Runner,
  type SessionAuthenticator,
  type SessionLifetimeOptions,
  type SessionManager,
  type SessionStore,
  type UserSession,
} from '@pikku/core'
import { resolveSessionLifetime, type SessionLifetime, type SessionLifetimeDefaults } from '@pikku/core/protocol'
import type { AuthenticateToken } from './credentials.js'
import type { MCPTools } from './tools.js'

const MINUTE = 60_000

/** The lifetime of MCP sessions unless `session.lifetime` says otherwise: 1 hour idle, 24 hours at most. */
export const MCP_SESSION_DEFAULTS: SessionLifetimeDefaults = Object.freeze({
  idleTimeout: 60 * MINUTE,
  absoluteTimeout: 24 * 60 * MINUTE,
  maxRenewalInterval: MINUTE,
})

export interface MCPHTTPHandlerOptions extends MCPHTTPHandlerFlatOptions {
  /** The tools, from `wireMCP`. */
  mcp: MCPTools
  /** The app's runner (services, global middleware, logger). */
  runner: Runner
  /** The app's session manager: the same store as every other protocol. */
  sessions: SessionManager<UserSession>
  /**
   * Turns a request's credential into a session: it is given the request's headers
   * (`{ header }`), so it may read a bearer token, an API key header or anything else. A stored
   * session is revocable and may own an MCP session; a transient one (an API key) lives for the
   * request. A credential it refuses is a 401 with `error="invalid_token"`. Pass
   * `httpSessions.authenticator` from `@pikku/middleware-http-session` to accept its credentials,
   * or combine several with core's `firstAuthenticated`.
   * @default opaque session tokens of `sessions`, as `Authorization: Bearer <token>`
   */
  authenticator?: SessionAuthenticator
  /**
   * @deprecated Pass `authenticator` instead; removed in the next major version. A function from a
   * bearer token to a stored session, adapted to an authenticator (credential kind `'bearer'`).
   */
  authenticateToken?: AuthenticateToken
  /** MCP sessions: mode, in-band login, lifetime, anonymous sessions, store. */
  session?: MCPSessionOptions
  /** The HTTP endpoint: path, browser origins, body limit, response form, client addresses. */
  http?: MCPHTTPOptions
  /** The OAuth protected-resource metadata (RFC 9728) and the 401 challenge that links to it. */
  metadata?: MCPMetadataOptions
  /** @default sessions.clock */
  clock?: Clock
  /** @default runner.logger */
  logger?: Logger
}

/** How MCP sessions live. */
export interface MCPSessionOptions {
  /**
   * `stateful`: `Mcp-Session-Id` issued on initialize, MCP sessions kept by core's session manager
   * in the `mcp` namespace of the session store, and the `login` tool binds its user session to
   * the MCP session. `stateless`: no MCP sessions; the caller is whoever the credential of each
   * request says.
   * @default 'stateful'
   */
  mode?: 'stateful' | 'stateless'
  /**
   * Let a user session started by the `login` tool authenticate later calls in the same MCP session
   * (stateful mode only). Off means identity comes only from credentials on each request.
   * @default true
   */
  inBandLogin?: boolean
  /** Timeouts of MCP sessions (core's lifetime rules, with MCP's defaults). */
  lifetime?: MCPSessionLifetimeOptions
  /**
   * MCP sessions no user is bound to (initialized without a credential, no in-band login yet)
   * are kept in this process's memory, never in the store: an unauthenticated client cannot fill
   * Redis, PostgreSQL or SQLite. Another process does not know them (it answers 404 and the
   * client initializes again); a login binds the session and moves it to the store.
   */
  anonymous?: AnonymousSessionOptions
  /**
   * How often idle MCP sessions this process served are evicted (their transports closed and the
   * user session they bound revoked); 0 turns the timer off (call `sweep()` yourself).
   * @default 60_000
   */
  sweepInterval?: number
  /**
   * How often an idle standalone SSE stream (`GET`) gets a comment line, so proxies that close
   * quiet connections keep it open (ms); 0 turns it off.
   * @default 25_000
   */
  keepAliveInterval?: number
  /** Where MCP session records live (in its `mcp` namespace). @default sessions.store */
  store?: SessionStore<CoreUserSession>
}

/** The timeouts of MCP sessions; core's `SessionLifetimeOptions` with MCP's defaults. */
export interface MCPSessionLifetimeOptions extends SessionLifetimeOptions {
  /**
   * An MCP session unused for this long ends (ms): later requests with its id get 404.
   * @default 3_600_000 (1 hour)
   */
  idleTimeout?: number
  /** An MCP session ends this long after it was stored however much it is used (ms). @default 86_400_000 (24 hours) */
  absoluteTimeout?: number
  /**
   * The idle timer is renewed in the store at most this often (ms), so requests do not each write.
   * @default 60_000, or a tenth of idleTimeout when that is shorter
   */
  renewalInterval?: number
}

/** Limits of the in-memory map of anonymous MCP sessions. */
export interface AnonymousSessionOptions {
  /** The most anonymous MCP sessions kept; past it the least recently used one ends. @default 10_000 */
  max?: number
  /** An anonymous MCP session unused for this long ends (ms). @default the idle timeout, at most 15 minutes */
  idleTimeout?: number
}

/** The HTTP endpoint. */
export interface MCPHTTPOptions {
  /** Path of the MCP endpoint. @default '/mcp' */
  path?: string
  /**
   * Browser origins allowed to call the endpoint besides its own (DNS-rebinding and CSRF defence,
   * `@pikku/http`'s origin policy): a request with any other `Origin` gets 403. Requests without
   * `Origin` (agents, CLIs) are not browsers and are allowed. The origin of `metadata.resourceUrl`
   * is always allowed; on a server listening on a loopback address, so is any `localhost`,
   * `127.0.0.1` or `[::1]` origin, and a `Host` that is not one of those names (nor the resource
   * URL's) gets 403.
   * @default []
   */
  allowedOrigins?: readonly string[]
  /**
   * Treat the server as listening on a loopback address (`true`) or not (`false`) instead of
   * deciding from each connection's local address: set `false` behind a proxy that forwards
   * public `Host` names to a loopback listener (or set `metadata.resourceUrl`, whose host is
   * accepted), and `true` for `handleFetch` on a loopback listener (fetch runtimes do not tell
   * the local address).
   * @default undefined (from the connection's local address)
   */
  loopback?: boolean
  /** Largest request body accepted (bytes); larger ones get 413. @default 1_048_576 */
  bodyLimit?: number
  /** Answer with one JSON body instead of an SSE stream. @default false */
  jsonResponse?: boolean
  /**
   * `handle` (node:http) sits behind one proxy you run: take `wire.client.address` from the
   * rightmost `X-Forwarded-For` entry and believe `X-Forwarded-Proto: https` (`@pikku/http`'s
   * `toNodeListener` option). Without it both headers are ignored.
   * @default false
   */
  trustProxy?: boolean
  /**
   * The client's address for `wire.client.address` on `handleFetch`, from the runtime's second
   * argument (`@pikku/http`'s `toFetchHandler` option): on Bun
   * `(request, server) => server?.requestIP(request)?.address`.
   * @default undefined (no client address on fetch runtimes)
   */
  clientAddress?: (request: Request, context: unknown) => string | undefined
}

/** The protected-resource metadata. */
export interface MCPMetadataOptions {
  /**
   * The endpoint's canonical URL, published as `resource` in the protected-resource metadata and
   * used for the `resource_metadata` link of 401 answers. Set it in production.
   * @default the request's own origin when its Host passes the origin policy (never a Host it refuses)
   */
  resourceUrl?: string
  /**
   * Authorization servers listed in the protected-resource metadata. The app's own `login` tool
   * issues the tokens, so there is no OAuth server to name by default.
   * @default []
   */
  authorizationServers?: readonly string[]
  /** `resource_name` in the metadata. @default the server name given to wireMCP */
  resourceName?: string
  /**
   * Scopes the authorization servers issue for this resource (`oauth.scopesSupported` of
   * `@pikku/oauth-server`): published as `scopes_supported`, and named in the `scope` of every 401
   * challenge, so a client asks for them when it authorizes.
   * @default [] (none named)
   */
  scopesSupported?: readonly string[]
}

/**
 * The options of version 1, before they were grouped. Each still works for one major version
 * (a warning is logged at creation); setting one together with its new place is an error.
 */
export interface MCPHTTPHandlerFlatOptions {
  /** @deprecated Use `http.path`. */
  path?: string
  /** @deprecated Use `session.mode`. */
  mode?: 'stateful' | 'stateless'
  /** @deprecated Use `session.inBandLogin`. */
  inBandLogin?: boolean
  /** @deprecated Use `http.allowedOrigins`. */
  allowedOrigins?: readonly string[]
  /** @deprecated Use `http.loopback`. */
  loopback?: boolean
  /** @deprecated Use `metadata.resourceUrl`. */
  resourceUrl?: string
  /** @deprecated Use `metadata.authorizationServers`. */
  authorizationServers?: readonly string[]
  /** @deprecated Use `metadata.resourceName`. */
  resourceName?: string
  /** @deprecated Use `session.lifetime.idleTimeout`. */
  idleTimeout?: number
  /** @deprecated Use `session.lifetime.absoluteTimeout`. */
  absoluteTimeout?: number
  /** @deprecated Use `session.anonymous`. */
  anonymousSessions?: AnonymousSessionOptions
  /** @deprecated Use `session.lifetime.renewalInterval`. */
  renewalInterval?: number
  /** @deprecated Use `session.sweepInterval`. */
  sweepInterval?: number
  /** @deprecated Use `session.store`. */
  store?: SessionStore<CoreUserSession>
  /** @deprecated Use `http.bodyLimit`. */
  bodyLimit?: number
  /** @deprecated Use `http.jsonResponse`. */
  jsonResponse?: boolean
}

/** Where each flat option went. */
const FLAT_OPTIONS = {
  path: ['http', 'path'],
  mode: ['session', 'mode'],
  inBandLogin: ['session', 'inBandLogin'],
  allowedOrigins: ['http', 'allowedOrigins'],
  loopback: ['http', 'loopback'],
  resourceUrl: ['metadata', 'resourceUrl'],
  authorizationServers: ['metadata', 'authorizationServers'],
  resourceName: ['metadata', 'resourceName'],
  idleTimeout: ['session', 'lifetime', 'idleTimeout'],
  absoluteTimeout: ['session', 'lifetime', 'absoluteTimeout'],
  renewalInterval: ['session', 'lifetime', 'renewalInterval'],
  anonymousSessions: ['session', 'anonymous'],
  sweepInterval: ['session', 'sweepInterval'],
  store: ['session', 'store'],
  bodyLimit: ['http', 'bodyLimit'],
  jsonResponse: ['http', 'jsonResponse'],
} as const satisfies Record<keyof MCPHTTPHandlerFlatOptions, readonly string[]>

/** Everything the handler's modules need, validated. */
export interface ResolvedHandlerOptions {
  readonly stateful: boolean
  readonly inBandLogin: boolean
  readonly lifetime: SessionLifetime
  readonly anonymousLifetime: SessionLifetime
  readonly maxAnonymous: number
  readonly sweepInterval: number
  readonly keepAliveInterval: number
  readonly store: SessionStore<CoreUserSession> | undefined
  readonly path: string
  readonly allowedOrigins: readonly string[]
  /** How the user named `allowedOrigins`, for the origin policy's messages. */
  readonly allowedOriginsWhere: string
  readonly loopback: boolean | undefined
  readonly bodyLimit: number
  readonly jsonResponse: boolean
  readonly trustProxy: boolean
  readonly clientAddress: ((request: Request, context: unknown) => string | undefined) | undefined
  readonly resource: URL | undefined
  readonly authorizationServers: readonly string[]
  readonly resourceName: string | undefined
  readonly scopesSupported: readonly string[]
}

const WHERE = 'createMCPHTTPHandler: '

interface Grouped {
  session: MCPSessionOptions & { lifetime: MCPSessionLifetimeOptions }
  http: MCPHTTPOptions
  metadata: MCPMetadataOptions
}

function group<T extends object>(value: T | undefined, name: string, example: string): T {
  if (value === undefined) return {} as T
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${WHERE}${name} must be an object such as ${example}; got ${JSON.stringify(value)}`)
  return value
}

/** The grouped options, with the flat ones of version 1 moved into their groups. */
function groupOptions(options: MCPHTTPHandlerOptions, logger: Logger): Grouped {
  const session = { ...group(options.session, 'session', "{ mode: 'stateful' }") }
  const lifetime = { ...group(session.lifetime, 'session.lifetime', '{ idleTimeout: 3_600_000 }') }
  const grouped: Grouped = {
    session: { ...session, lifetime },
    http: { ...group(options.http, 'http', "{ path: '/mcp' }") },
    metadata: { ...group(options.metadata, 'metadata', "{ resourceUrl: 'https://api.example.com/mcp' }") },
  }
  const used: string[] = []
  for (const [flat, place] of Object.entries(FLAT_OPTIONS) as [keyof MCPHTTPHandlerFlatOptions, readonly string[]][]) {
    const value = options[flat]
    if (value === undefined) continue
    let target = grouped as unknown as Record<string, unknown>
    for (const key of place.slice(0, -1)) target = target[key] as Record<string, unknown>
    const last = place[place.length - 1]!
    if (target[last] !== undefined) {
      throw new TypeError(`${WHERE}${flat} and ${place.join('.')} are both set: keep ${place.join('.')} (${flat} is its deprecated name)`)
    }
    target[last] = value
    used.push(`${flat} → ${place.join('.')}`)
  }
  if (used.length > 0) {
    logger.warn(`${WHERE}options outside their group are deprecated and will stop working in the next major version; move ${used.join(', ')}`)
  }
  return grouped
}

/** Validates and resolves the handler's options when it is created, saying what to change. */
export function resolveHandlerOptions(options: MCPHTTPHandlerOptions, defaultResourceName: string, logger: Logger): ResolvedHandlerOptions {
  const { session, http, metadata } = groupOptions(options, logger)
  const path = http.path ?? '/mcp'
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`${WHERE}http.path must start with '/'; got ${JSON.stringify(path)}`)
  const mode = session.mode ?? 'stateful'
  if (mode !== 'stateful' && mode !== 'stateless') throw new TypeError(`${WHERE}session.mode must be 'stateful' or 'stateless'; got ${JSON.stringify(mode)}`)
  const flatLifetime = options.idleTimeout !== undefined || options.absoluteTimeout !== undefined || options.renewalInterval !== undefined
  const lifetime = resolveSessionLifetime(session.lifetime, MCP_SESSION_DEFAULTS, flatLifetime ? WHERE : `${WHERE}session.lifetime.`)
  const anonymousWhere = options.anonymousSessions !== undefined ? 'anonymousSessions' : 'session.anonymous'
  const anonymous = group(session.anonymous, anonymousWhere, '{ max: 10_000, idleTimeout: 900_000 }')
  const maxAnonymous = anonymous.max ?? 10_000
  if (!Number.isInteger(maxAnonymous) || maxAnonymous < 1) {
    throw new RangeError(`${WHERE}${anonymousWhere}.max must be a whole number of sessions, at least 1; got ${maxAnonymous}`)
  }
  // Anonymous sessions follow core's rules too, with their own (shorter) idle timeout.
  const anonymousLifetime = resolveSessionLifetime(
    { idleTimeout: anonymous.idleTimeout ?? Math.min(lifetime.idleTimeout, 15 * MINUTE), absoluteTimeout: lifetime.absoluteTimeout, renewalInterval: 0 },
    MCP_SESSION_DEFAULTS,
    `${WHERE}${anonymousWhere}.`,
  )
  const sweepInterval = session.sweepInterval ?? MINUTE
  if (typeof sweepInterval !== 'number' || !(sweepInterval >= 0)) throw new RangeError(`${WHERE}session.sweepInterval must be 0 or more ms; got ${sweepInterval}`)
  const keepAliveInterval = session.keepAliveInterval ?? 25_000
  if (typeof keepAliveInterval !== 'number' || !(keepAliveInterval >= 0)) throw new RangeError(`${WHERE}session.keepAliveInterval must be 0 or more ms; got ${keepAliveInterval}`)
  if (http.loopback !== undefined && typeof http.loopback !== 'boolean') {
    throw new TypeError(`${WHERE}http.loopback must be true, false or left out; got ${JSON.stringify(http.loopback)}`)
  }
  if (http.trustProxy !== undefined && typeof http.trustProxy !== 'boolean') {
    throw new TypeError(`${WHERE}http.trustProxy must be true or false; got ${JSON.stringify(http.trustProxy)}`)
  }
  if (http.clientAddress !== undefined && typeof http.clientAddress !== 'function') {
    throw new TypeError(`${WHERE}http.clientAddress must be a function (request, context) => string | undefined; got ${typeof http.clientAddress}`)
  }
  const bodyLimit = http.bodyLimit ?? 1_048_576
  if (!Number.isInteger(bodyLimit) || bodyLimit <= 0) throw new RangeError(`${WHERE}http.bodyLimit must be a positive whole number of bytes; got ${bodyLimit}`)
  return {
    stateful: mode === 'stateful',
    inBandLogin: mode === 'stateful' && (session.inBandLogin ?? true),
    lifetime,
    anonymousLifetime,
    maxAnonymous,
    sweepInterval,
    keepAliveInterval,
    store: session.store,
    path,
    allowedOrigins: http.allowedOrigins ?? [],
    allowedOriginsWhere: options.allowedOrigins !== undefined ? 'allowedOrigins' : 'http.allowedOrigins',
    loopback: http.loopback,
    bodyLimit,
    jsonResponse: http.jsonResponse ?? false,
    trustProxy: http.trustProxy ?? false,
    clientAddress: http.clientAddress,
    resource: resourceUrl(metadata.resourceUrl),
    authorizationServers: metadata.authorizationServers ?? [],
    resourceName: metadata.resourceName ?? defaultResourceName,
    scopesSupported: scopeList(metadata.scopesSupported),
  }
}

function scopeList(value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return []
  // The names go into a quoted header parameter: no spaces, quotes or backslashes (RFC 6749 3.3).
  if (!Array.isArray(value) || !value.every((scope) => typeof scope === 'string' && /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope))) {
    throw new TypeError(`${WHERE}metadata.scopesSupported must be a list of scope names without spaces, quotes or backslashes, such as ['mcp:tools']; got ${JSON.stringify(value)}`)
  }
  return [...value]
}

function resourceUrl(value: string | undefined): URL | undefined {
  if (value === undefined) return undefined
  try {
    return new URL(value)
  } catch {
    throw new TypeError(`${WHERE}metadata.resourceUrl must be an absolute URL such as https://api.example.com/mcp; got ${JSON.stringify(value)}`)
  }
}
