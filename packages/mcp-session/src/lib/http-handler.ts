import type { IncomingMessage, ServerResponse } from 'node:http'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { isInitializeRequest, isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import {
  type Clock,
  type CoreUserSession,
  errorTable,
  ForbiddenError,
  type Logger,
  type PikkuClientInfo,
  type PublicError,
  type Runner,
  type SessionManager,
  type SessionRecord,
  type SessionStore,
  toPublicError,
  type UserSession,
} from '@pikku/core'
import { guardRequestParams } from './argument-validation.js'
import { clientLabel } from './client-label.js'
import { INVALID_REQUEST, parseJsonRpcBody, readBody } from './json-rpc-body.js'
import { createMCPSessionRecords, type MCPSessionRecord } from './mcp-session-records.js'
import { createMCPOrigin } from './origin.js'
import { type CallerResolution, createCallerResolver } from './session-ownership.js'
import { bearerChallenge, PROTECTED_RESOURCE_PATH, protectedResourceMetadata, protectedResourceMetadataUrl } from './protected-resource.js'
import { ANONYMOUS, createToolRuntime, createToolServer, isToolVisibleTo, type MCPIdentity, type ToolServerContext } from './tool-server.js'
import type { MCPTools } from './tools.js'

/** Verifies a bearer token; the shape of `authenticateToken` in `@pikku/middleware-http-session`. */
export type AuthenticateToken = (token: string) => Promise<SessionRecord<UserSession> | undefined>

export interface MCPHTTPHandlerOptions {
  /** The tools, from `wireMCP`. */
  mcp: MCPTools
  /** The app's runner (services, global middleware, logger). */
  runner: Runner
  /** The app's session manager: the same store as every other protocol. */
  sessions: SessionManager<UserSession>
  /**
   * Turns `Authorization: Bearer <token>` into a stored session, or undefined for a bad token. Pass
   * `httpSessions.authenticateToken` from `@pikku/middleware-http-session` to accept its JWTs.
   * @default sessions.loadByToken (opaque session tokens)
   */
  authenticateToken?: AuthenticateToken
  /** Path of the MCP endpoint. @default '/mcp' */
  path?: string
  /**
   * `stateful`: `Mcp-Session-Id` issued on initialize, MCP sessions kept in the session store, and
   * the `login` tool binds its user session to the MCP session. `stateless`: no MCP sessions; the
   * caller is whoever the bearer token of each request says.
   * @default 'stateful'
   */
  mode?: 'stateful' | 'stateless'
  /**
   * Let a user session started by the `login` tool authenticate later calls in the same MCP session
   * (stateful mode only). Off means identity comes only from bearer tokens.
   * @default true
   */
  inBandLogin?: boolean
  /**
   * Browser origins allowed to call the endpoint besides its own (DNS-rebinding and CSRF defence,
   * `@pikku/http`'s origin policy): a request with any other `Origin` gets 403. Requests without
   * `Origin` (agents, CLIs) are not browsers and are allowed. The origin of `resourceUrl` is always
   * allowed; on a server listening on a loopback address, so is any `localhost`, `127.0.0.1` or
   * `[::1]` origin, and a `Host` that is not one of those names (nor `resourceUrl`'s) gets 403.
   * @default []
   */
  allowedOrigins?: readonly string[]
  /**
   * Treat the server as listening on a loopback address (`true`) or not (`false`) instead of
   * deciding from each connection's local address: set `false` behind a proxy that forwards
   * public `Host` names to a loopback listener (or set `resourceUrl`, whose host is accepted).
   * @default undefined (from the connection's local address)
   */
  loopback?: boolean
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
   * An MCP session unused for this long ends (ms): later requests with its id get 404.
   * @default 3_600_000 (1 hour)
   */
  idleTimeout?: number
  /** An MCP session ends this long after initialize however much it is used (ms). @default 86_400_000 (24 hours) */
  absoluteTimeout?: number
  /**
   * MCP sessions no user is bound to (initialized without a bearer token, no in-band login yet)
   * are kept in this process's memory, never in the store: an unauthenticated client cannot fill
   * Redis, PostgreSQL or SQLite. Another process does not know them (it answers 404 and the
   * client initializes again); a login binds the session and moves it to the store.
   */
  anonymousSessions?: AnonymousSessionOptions
  /**
   * The idle timer is renewed in the store at most this often (ms), so requests do not each write.
   * @default 60_000, or a tenth of idleTimeout when that is shorter
   */
  renewalInterval?: number
  /**
   * How often idle MCP sessions this process served are evicted (their transports closed and the
   * user session they bound revoked); 0 turns the timer off (call `sweep()` yourself).
   * @default 60_000
   */
  sweepInterval?: number
  /** Where MCP session records live. @default sessions.store */
  store?: SessionStore<CoreUserSession>
  /** Largest request body accepted (bytes); larger ones get 413. @default 1_048_576 */
  bodyLimit?: number
  /** Answer with one JSON body instead of an SSE stream. @default false */
  jsonResponse?: boolean
  /** @default sessions.clock */
  clock?: Clock
  /** @default runner.logger */
  logger?: Logger
}

/** Limits of the in-memory map of anonymous MCP sessions. */
export interface AnonymousSessionOptions {
  /** The most anonymous MCP sessions kept; past it the least recently used one ends. @default 10_000 */
  max?: number
  /** An anonymous MCP session unused for this long ends (ms). @default idleTimeout, at most 15 minutes */
  idleTimeout?: number
}

/** The MCP endpoint for `node:http`. */
export interface MCPHTTPHandler {
  /**
   * Serves the MCP endpoint and the protected-resource metadata. Returns false, without touching
   * the response, for any other path, so it can sit in front of other routes.
   */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>
  /** Evicts idle MCP sessions this process has served; returns how many ended. */
  sweep(): Promise<number>
  /** SDK transports currently open (requests in flight). */
  readonly openTransports: number
  /** Anonymous MCP sessions this process keeps in memory. */
  readonly anonymousSessions: number
  /** Stops the sweep timer and the store subscription and closes every open transport. */
  close(): Promise<void>
}

interface LocalSession {
  boundSessionId: string | undefined
  readonly transports: Set<{ close(): Promise<void> }>
}

const JSON_TYPE = 'application/json'
const MINUTE = 60_000
// Public and cheap to compute; short-lived so that a change of resourceUrl or proxy shows soon.
const METADATA_CACHE = 'public, max-age=60'

export function createMCPHTTPHandler(options: MCPHTTPHandlerOptions): MCPHTTPHandler {
  const runtime = createToolRuntime(options.mcp, options.runner, options.sessions, options.logger)
  const { sessions, logger } = runtime
  const path = options.path ?? '/mcp'
  if (!path.startsWith('/')) throw new TypeError(`path must start with '/'; got ${JSON.stringify(path)}`)
  const mode = options.mode ?? 'stateful'
  if (mode !== 'stateful' && mode !== 'stateless') throw new TypeError(`mode must be 'stateful' or 'stateless'; got ${JSON.stringify(mode)}`)
  const stateful = mode === 'stateful'
  const inBandLogin = stateful && (options.inBandLogin ?? true)
  if (options.authenticateToken !== undefined && typeof options.authenticateToken !== 'function') {
    throw new TypeError('authenticateToken must be a function (token) => Promise<SessionRecord | undefined>, e.g. httpSessions.authenticateToken')
  }
  const authenticateToken: AuthenticateToken = options.authenticateToken ?? ((token) => sessions.loadByToken(token))
  const idleTimeout = options.idleTimeout ?? 60 * MINUTE
  const absoluteTimeout = options.absoluteTimeout ?? 24 * 60 * MINUTE
  const renewalInterval = options.renewalInterval ?? Math.min(MINUTE, Math.floor(idleTimeout / 10))
  const sweepInterval = options.sweepInterval ?? MINUTE
  const bodyLimit = options.bodyLimit ?? 1_048_576
  const clock = options.clock ?? sessions.clock
  for (const [name, value] of [['idleTimeout', idleTimeout], ['absoluteTimeout', absoluteTimeout]] as const) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds; got ${value}`)
  }
  if (!Number.isFinite(renewalInterval) || renewalInterval < 0 || renewalInterval >= idleTimeout) {
    throw new RangeError(`renewalInterval must be at least 0 and shorter than idleTimeout (${idleTimeout} ms); got ${renewalInterval}`)
  }
  if (!(sweepInterval >= 0)) throw new RangeError(`sweepInterval must be 0 or more ms; got ${sweepInterval}`)
  const anonymousOptions = options.anonymousSessions ?? {}
  if (typeof anonymousOptions !== 'object' || anonymousOptions === null) {
    throw new TypeError('anonymousSessions must be an object such as { max: 10_000, idleTimeout: 900_000 }')
  }
  const maxAnonymous = anonymousOptions.max ?? 10_000
  const anonymousIdleTimeout = anonymousOptions.idleTimeout ?? Math.min(idleTimeout, 15 * MINUTE)
  if (!Number.isInteger(maxAnonymous) || maxAnonymous < 1) {
    throw new RangeError(`anonymousSessions.max must be a whole number of sessions, at least 1; got ${maxAnonymous}`)
  }
  if (!Number.isFinite(anonymousIdleTimeout) || anonymousIdleTimeout <= 0) {
    throw new RangeError(`anonymousSessions.idleTimeout must be a positive number of milliseconds; got ${anonymousIdleTimeout}`)
  }
  if (options.loopback !== undefined && typeof options.loopback !== 'boolean') {
    throw new TypeError(`loopback must be true, false or left out; got ${JSON.stringify(options.loopback)}`)
  }
  if (!Number.isInteger(bodyLimit) || bodyLimit <= 0) throw new RangeError(`bodyLimit must be a positive whole number of bytes; got ${bodyLimit}`)
  let configuredResource: URL | undefined
  if (options.resourceUrl !== undefined) {
    try {
      configuredResource = new URL(options.resourceUrl)
    } catch {
      throw new TypeError(`resourceUrl must be an absolute URL such as https://api.example.com/mcp; got ${JSON.stringify(options.resourceUrl)}`)
    }
  }
  // One origin rule for HTTP CSRF, WebSocket upgrades and MCP: @pikku/http's policy (which also
  // checks the allowedOrigins entries now, saying which one is wrong).
  const origin = createMCPOrigin({
    allowedOrigins: options.allowedOrigins ?? [],
    resource: configuredResource,
    path,
    loopback: options.loopback,
    warn: (message) => logger.warn(message),
  })
  const resolveCaller = createCallerResolver({ authenticateToken, sessions, inBandLogin })
  const authorizationServers = options.authorizationServers ?? []
  const resourceName = options.resourceName ?? options.mcp.serverInfo.name
  const records = createMCPSessionRecords({
    store: options.store ?? (sessions.store as unknown as SessionStore<CoreUserSession>),
    idleTimeout,
    absoluteTimeout,
    renewalInterval,
    maxAnonymous,
    anonymousIdleTimeout,
    // An anonymous session left memory: what this process served for it ends too.
    onAnonymousEvicted: (id) => track(endLocal(id, undefined)),
    clock,
    logger,
  })

  // MCP sessions this process has served: the user session each bound (to revoke it when the MCP
  // session ends) and the SDK transports of requests in flight (to close them).
  const local = new Map<string, LocalSession>()
  let openTransports = 0
  // Endings started outside a sweep (anonymous sessions evicted from memory), for sweep to await.
  const endings = new Set<Promise<void>>()
  function track(ending: Promise<void>): void {
    const settled = ending.catch((error: unknown) => logger.warn('ending an evicted MCP session failed', { error })).finally(() => endings.delete(settled))
    endings.add(settled)
  }

  const localFor = (id: string): LocalSession => {
    let entry = local.get(id)
    if (entry === undefined) local.set(id, (entry = { boundSessionId: undefined, transports: new Set() }))
    return entry
  }

  /** Ends an MCP session here: closes its transports and revokes the user session it bound. */
  const endLocal = async (id: string, boundSessionId: string | undefined): Promise<void> => {
    const entry = local.get(id)
    local.delete(id)
    const bound = boundSessionId ?? entry?.boundSessionId
    if (entry !== undefined) {
      for (const transport of [...entry.transports]) await transport.close().catch(() => undefined)
    }
    if (bound !== undefined) await sessions.revoke(bound)
  }

  // A session deleted anywhere (DELETE on another process, the store's own expiry) ends here too.
  // After a resync, deletions sent while the store's events were down are lost: one sweep checks
  // every MCP session served here against the store, as the timer's sweep does.
  const unsubscribe = records.subscribe((event) => {
    if (event.type === 'resync') {
      // A sweep already under way may have read some sessions before the gap ended: one more.
      if (sweeping) resyncPending = true
      else sweepInBackground()
      return
    }
    if (event.type !== 'deleted' || !local.has(event.id)) return
    endLocal(event.id, undefined).catch((error: unknown) => logger.warn('ending an MCP session after a store event failed', { error }))
  })

  const sweep = async (): Promise<number> => {
    let evicted = records.sweepAnonymous()
    for (const [id, entry] of [...local]) {
      const record = await records.get(id)
      if (record === undefined) {
        await endLocal(id, entry.boundSessionId)
        evicted++
      } else {
        entry.boundSessionId = record.data.boundSessionId
      }
    }
    await Promise.all([...endings])
    return evicted
  }

  let sweeping = false
  let resyncPending = false
  function sweepInBackground(): void {
    if (sweeping) return
    sweeping = true
    sweep()
      .catch((error: unknown) => logger.warn('sweeping idle MCP sessions failed', { error }))
      .finally(() => {
        sweeping = false
        if (resyncPending) {
          resyncPending = false
          sweepInBackground()
        }
      })
  }
  const timer = sweepInterval > 0 ? setInterval(sweepInBackground, sweepInterval) : undefined
  timer?.unref()

  const sendJsonRpcError = (
    res: ServerResponse,
    status: number,
    code: number,
    message: string,
    id: string | number | null = null,
    headers: Record<string, string> = {},
    data?: PublicError,
  ): void => {
    res.writeHead(status, { 'content-type': JSON_TYPE, ...headers })
    res.end(JSON.stringify({ jsonrpc: '2.0', error: data === undefined ? { code, message } : { code, message, data }, id }))
  }

  const sendUnauthorized = (
    req: IncomingMessage,
    res: ServerResponse,
    error: 'invalid_token' | 'invalid_request' | undefined,
    id: string | number | null,
    message: string,
  ): void => {
    // The challenge names the configured resource, or the request's own origin only when its Host
    // passes the origin policy: a forged Host is never reflected.
    const resource = origin.resourceFor(req)
    const challenge = bearerChallenge(resource === undefined ? undefined : protectedResourceMetadataUrl(resource), error)
    sendJsonRpcError(res, 401, errorTable.UNAUTHORIZED.jsonRpc, message, id, { 'www-authenticate': challenge })
  }

  /** Answers a refused credential; true when it did. */
  const refuse = (req: IncomingMessage, res: ServerResponse, resolution: CallerResolution, id: string | number | null): boolean => {
    if (resolution.kind === 'ok') return false
    // The session does not exist for this user (the specification binds ids to their user).
    if (resolution.kind === 'not-yours') sessionNotFound(res)
    else sendUnauthorized(req, res, resolution.error, id, resolution.message)
    return true
  }

  const sessionNotFound = (res: ServerResponse): void => {
    // 404 tells the client to start a new session (MCP transport specification, session management).
    sendJsonRpcError(res, 404, errorTable.NOT_FOUND.jsonRpc, 'Session not found: initialize a new MCP session')
  }

  /** A tools/call an anonymous caller may not make: answered with 401 before the transport. */
  const needsCredentials = async (messages: readonly JSONRPCMessage[], identity: MCPIdentity): Promise<string | number | null | false> => {
    if (identity.record !== undefined) return false
    for (const message of messages) {
      if (!isJSONRPCRequest(message) || message.method !== 'tools/call') continue
      const name = (message.params as { name?: unknown } | undefined)?.name
      const tool = typeof name === 'string' ? runtime.mcp.tools.get(name) : undefined
      if (tool !== undefined && !(await isToolVisibleTo(runtime, tool, identity, 'streamable-http'))) return message.id
    }
    return false
  }

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    messages: readonly JSONRPCMessage[],
    identity: MCPIdentity,
    record: MCPSessionRecord | undefined,
    mcpSessionId: string | undefined,
    client: PikkuClientInfo,
  ): Promise<void> => {
    let current = identity
    const context: ToolServerContext = {
      transport: 'streamable-http',
      client,
      identity: async () => current,
      // An in-band login binds the MCP session to its user: only the owner may log in again in it.
      loginUser: () => (inBandLogin ? record?.data.boundUserId : undefined),
      committed: async (result, before) => {
        const previousId = before.record?.id
        if (result.kind === 'created') {
          current = { record: result.record as SessionRecord<UserSession>, via: inBandLogin ? 'mcp-session' : before.via }
          if (inBandLogin && mcpSessionId !== undefined) {
            let bound: 'ok' | 'missing' | 'not-yours'
            try {
              bound = await records.bind(mcpSessionId, { id: result.record.id, userId: result.record.userId })
            } catch (error) {
              // Not bound, so nothing could end it with the MCP session: it must not outlive this call.
              await sessions.revoke(result.record.id).catch(() => false)
              throw error
            }
            if (bound === 'ok') {
              localFor(mcpSessionId).boundSessionId = result.record.id
            } else {
              // The MCP session ended while the login ran (nothing can reach this session any
              // more), or another user's login was bound to it meanwhile.
              await sessions.revoke(result.record.id)
              if (bound === 'not-yours') {
                throw new ForbiddenError('This MCP session belongs to another user: start a new MCP session (initialize) to log in as someone else')
              }
            }
          }
        } else if (result.kind === 'cleared' || result.kind === 'revoked') {
          current = ANONYMOUS
          const entry = mcpSessionId === undefined ? undefined : local.get(mcpSessionId)
          const wasBound = before.via === 'mcp-session' || (entry !== undefined && entry.boundSessionId === previousId)
          if (mcpSessionId !== undefined && previousId !== undefined && wasBound) {
            // Only the owner's own logout releases an in-band owner; a revocation elsewhere does not.
            await records.unbind(mcpSessionId, result.kind === 'cleared' ? 'logout' : 'ended')
            if (entry !== undefined && entry.boundSessionId === previousId) entry.boundSessionId = undefined
          }
        } else if (result.kind === 'updated') {
          current = { record: result.record as SessionRecord<UserSession>, via: before.via }
        }
      },
    }
    const server = createToolServer(runtime, context)
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: options.jsonResponse ?? false })
    const entry = mcpSessionId === undefined ? undefined : localFor(mcpSessionId)
    let released: Promise<void> | undefined
    const release = (): Promise<void> =>
      (released ??= (() => {
        openTransports--
        entry?.transports.delete(closable)
        // Closing the server closes its transport, which ends the response stream of a call in flight.
        return server.close().catch(() => undefined)
      })())
    const inFlight = messages.filter(isJSONRPCRequest).map((message) => message.id)
    const closable = {
      // The session ended under a call in flight: answer it, or the agent waits for its timeout.
      close: async (): Promise<void> => {
        for (const id of inFlight) {
          await transport
            .send({ jsonrpc: '2.0', id, error: { code: errorTable.NOT_FOUND.jsonRpc, message: 'The MCP session ended (deleted or expired)' } })
            .catch(() => undefined)
        }
        await release()
      },
    }
    entry?.transports.add(closable)
    openTransports++
    res.on('close', () => void release())
    try {
      await server.connect(transport)
      guardRequestParams(transport, (error) => logger.warn('checking an MCP request failed', { error }))
      await transport.handleRequest(req, res, body)
    } catch (error) {
      await release()
      throw error
    }
  }

  const handlePost = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = await readBody(req, bodyLimit)
    if (text === undefined) {
      sendJsonRpcError(res, 413, errorTable.PAYLOAD_TOO_LARGE.jsonRpc, `The request body is larger than the limit of ${bodyLimit} bytes`)
      return
    }
    const parsed = parseJsonRpcBody(text)
    if (!parsed.ok) {
      sendJsonRpcError(res, 400, parsed.code, parsed.message, parsed.id)
      return
    }
    const { messages } = parsed
    const initialize = messages.some((message) => isInitializeRequest(message))
    if (initialize && messages.length > 1) {
      sendJsonRpcError(res, 400, INVALID_REQUEST, 'Invalid Request: initialize must be sent alone')
      return
    }
    let record: MCPSessionRecord | undefined
    if (stateful && !initialize) {
      const sessionId = req.headers['mcp-session-id']
      if (typeof sessionId !== 'string' || sessionId === '') {
        sendJsonRpcError(res, 400, INVALID_REQUEST, 'Invalid Request: the Mcp-Session-Id header is required after initialize')
        return
      }
      record = await records.load(sessionId)
      if (record === undefined) return sessionNotFound(res)
    }
    const single = messages.length === 1 && isJSONRPCRequest(messages[0]!) ? messages[0].id : null
    const resolution = await resolveCaller(req.headers.authorization, record)
    if (refuse(req, res, resolution, single) || resolution.kind !== 'ok') return
    const refused = await needsCredentials(messages, resolution.identity)
    if (refused !== false) {
      return sendUnauthorized(req, res, undefined, refused, 'Authentication required: send Authorization: Bearer <token> from the login tool')
    }

    let mcpSessionId: string | undefined
    let label = record?.data.client
    if (initialize) label = clientLabel((messages[0] as { params?: { clientInfo?: unknown } }).params?.clientInfo)
    if (stateful && initialize) {
      const created = await records.create(resolution.identity.record?.userId, label)
      mcpSessionId = created.record.id
      res.setHeader('mcp-session-id', created.token)
    } else if (record !== undefined) {
      mcpSessionId = record.id
      localFor(record.id).boundSessionId = record.data.boundSessionId
      await records.touch(record)
    }
    const address = req.socket.remoteAddress
    const client: PikkuClientInfo = address === undefined ? (label === undefined ? {} : { label }) : label === undefined ? { address } : { address, label }
    await serve(req, res, parsed.raw, messages, resolution.identity, record, mcpSessionId, client)
  }

  const handleDelete = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const sessionId = req.headers['mcp-session-id']
    if (typeof sessionId !== 'string' || sessionId === '') {
      sendJsonRpcError(res, 400, INVALID_REQUEST, 'Invalid Request: DELETE needs the Mcp-Session-Id header')
      return
    }
    const record = await records.load(sessionId)
    if (record === undefined) return sessionNotFound(res)
    // Ending a session someone is bound to takes their credential, like using it.
    if (refuse(req, res, await resolveCaller(req.headers.authorization, record), null)) return
    await records.delete(record.id, 'cleared')
    await endLocal(record.id, record.data.boundSessionId)
    res.writeHead(200)
    res.end()
  }

  const handleMcp = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const refusal = origin.hostRefusal(req) ?? origin.originRefusal(req)
    if (refusal !== undefined) {
      sendJsonRpcError(res, 403, errorTable.FORBIDDEN.jsonRpc, refusal)
      return
    }
    const allow = stateful ? 'POST, DELETE' : 'POST'
    const pageOrigin = req.headers.origin
    if (pageOrigin !== undefined) {
      // An allowed browser origin may read the answers, including the session id and challenges.
      res.setHeader('access-control-allow-origin', pageOrigin)
      res.setHeader('vary', 'origin')
      res.setHeader('access-control-expose-headers', 'mcp-session-id, www-authenticate')
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': allow,
          'access-control-allow-headers': 'authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id',
          'access-control-max-age': '600',
        })
        res.end()
        return
      }
    }
    if (req.method === 'POST') return handlePost(req, res)
    if (req.method === 'DELETE' && stateful) return handleDelete(req, res)
    // No standalone SSE stream: every response travels on its own POST (the specification's 405).
    sendJsonRpcError(res, 405, INVALID_REQUEST, `Method ${req.method ?? ''} not allowed; use ${allow}`, null, { allow })
  }

  const handleMetadata = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' })
      res.end()
      return
    }
    // Any page may read the metadata (no Origin check), but a rebinding Host is refused here too.
    const hostRefusal = origin.hostRefusal(req)
    const resource = hostRefusal === undefined ? origin.resourceFor(req) : undefined
    if (resource === undefined) {
      const message = hostRefusal ?? 'The Host header is missing or malformed, and no resourceUrl is configured'
      res.writeHead(hostRefusal === undefined ? 400 : 403, { 'content-type': JSON_TYPE, 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ error: hostRefusal === undefined ? 'invalid_request' : 'forbidden', error_description: message }))
      return
    }
    const body = JSON.stringify(protectedResourceMetadata({ resource, authorizationServers, resourceName }))
    // Public metadata: any origin may read it, as browser-based MCP clients must.
    res.writeHead(200, { 'content-type': JSON_TYPE, 'cache-control': METADATA_CACHE, 'access-control-allow-origin': '*' })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? '/'
    const queryStart = url.indexOf('?')
    const requestPath = queryStart === -1 ? url : url.slice(0, queryStart)
    const isMetadata = requestPath === PROTECTED_RESOURCE_PATH || requestPath === PROTECTED_RESOURCE_PATH + path
    if (requestPath !== path && !isMetadata) return false
    try {
      if (isMetadata) handleMetadata(req, res)
      else await handleMcp(req, res)
    } catch (error) {
      const publicError = toPublicError(error, logger)
      if (res.headersSent) {
        res.end()
      } else {
        // The public error as data, as tool errors carry it: its id finds the logged detail.
        sendJsonRpcError(res, errorTable[publicError.code].http, errorTable[publicError.code].jsonRpc, publicError.message, null, {}, publicError)
      }
    }
    return true
  }

  return {
    handle,
    sweep,
    get openTransports() {
      return openTransports
    },
    get anonymousSessions() {
      return records.anonymousCount
    },
    async close() {
      if (timer !== undefined) clearInterval(timer)
      unsubscribe()
      for (const entry of local.values()) {
        for (const transport of [...entry.transports]) await transport.close().catch(() => undefined)
      }
      local.clear()
    },
  }
}
