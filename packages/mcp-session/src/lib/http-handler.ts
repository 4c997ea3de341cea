import type { IncomingMessage, ServerResponse } from 'node:http'
import { toFetchHandler, toNodeListener } from '@pikku/http'
import { resolveAuthenticator } from './credentials.js'
import { createMCPRequests } from './mcp-requests.js'
import { createMCPRouter } from './mcp-router.js'
import { createMCPSessions } from './mcp-sessions.js'
import { createNotificationStreams } from './notification-streams.js'
import type { MCPHTTPHandlerOptions } from './options.js'
import { resolveHandlerOptions } from './options.js'
import { createMCPOrigin } from './origin.js'
import { createServedSessions, type ServedSessions } from './served-sessions.js'
import { createCallerResolver } from './session-ownership.js'
import { createToolExchange } from './tool-exchange.js'
import { createToolRuntime } from './tool-server.js'

/** The MCP endpoint, for `node:http` and for fetch runtimes (Bun, Deno, Hono, edge). */
export interface MCPHTTPHandler {
  /**
   * Serves the MCP endpoint and the protected-resource metadata on `node:http`. Returns false,
   * without touching the response, for any other path, so it can sit in front of other routes.
   */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>
  /**
   * The same endpoint for a web `Request`: the `Response` (an SSE stream or JSON), or undefined
   * for any other path, so it can sit in front of other routes. `context` is the runtime's second
   * argument, handed to `http.clientAddress`.
   */
  readonly handleFetch: (request: Request, context?: unknown) => Promise<Response | undefined>
  /** Evicts idle MCP sessions this process has served; returns how many ended. */
  sweep(): Promise<number>
  /** SDK transports currently open (requests in flight). */
  readonly openTransports: number
  /** Anonymous MCP sessions this process keeps in memory. */
  readonly anonymousSessions: number
  /** Standalone SSE streams (`GET`) open now. */
  readonly notificationStreams: number
  /** Stops the sweep timer and the store subscription and closes every open transport. */
  close(): Promise<void>
}

/**
 * The MCP endpoint (Streamable HTTP) and its protected-resource metadata, from modules along its
 * seams: the options (`options.ts`), the Origin and Host checks with CORS (`origin.ts`), the MCP
 * sessions (`mcp-sessions.ts`, core's session manager) and what this process served of them
 * (`served-sessions.ts`), who the caller is (`session-ownership.ts`), the POST/DELETE/metadata
 * router on `@pikku/http`'s adapters (`mcp-router.ts`, `mcp-requests.ts`), and one request run
 * through the SDK (`tool-exchange.ts`).
 */
export function createMCPHTTPHandler(options: MCPHTTPHandlerOptions): MCPHTTPHandler {
  const runtime = createToolRuntime(options.mcp, options.runner, options.sessions, options.logger)
  const { sessions, logger } = runtime
  const resolved = resolveHandlerOptions(options, options.mcp.serverInfo.name, logger)
  const authenticator = resolveAuthenticator(options, 'createMCPHTTPHandler: ', logger)
  const origin = createMCPOrigin({
    allowedOrigins: resolved.allowedOrigins,
    where: resolved.allowedOriginsWhere,
    resource: resolved.resource,
    path: resolved.path,
    loopback: resolved.loopback,
    warn: (message) => logger.warn(message),
  })
  // Evictions call back into what this process served, which is created from the MCP sessions.
  let served: ServedSessions | undefined
  const mcpSessions = createMCPSessions({
    store: resolved.store ?? sessions.store,
    lifetime: resolved.lifetime,
    maxAnonymous: resolved.maxAnonymous,
    anonymousLifetime: resolved.anonymousLifetime,
    // An anonymous session left memory: what this process served for it ends too.
    onAnonymousEvicted: (id) => served?.endEvicted(id),
    clock: options.clock ?? sessions.clock,
    logger,
  })
  const servedSessions = createServedSessions({ mcpSessions, sessions, sweepInterval: resolved.sweepInterval, logger })
  const streams = createNotificationStreams({
    subscribeMCPSessions: (listener) => mcpSessions.subscribe(listener),
    subscribeUserSessions: (listener) => sessions.subscribe(listener),
    boundSessionOf: async (id) => (await mcpSessions.get(id))?.data.boundSessionId,
    keepAliveInterval: resolved.keepAliveInterval,
    logger,
  })
  served = servedSessions
  const requests = createMCPRequests({
    runtime,
    mcpSessions,
    served: servedSessions,
    origin,
    resolveCaller: createCallerResolver({ authenticator, sessions, inBandLogin: resolved.inBandLogin }),
    exchange: createToolExchange({
      runtime,
      mcpSessions,
      served: servedSessions,
      inBandLogin: resolved.inBandLogin,
      jsonResponse: resolved.jsonResponse,
      // Stateful sessions have a standalone stream on which tools/list_changed is sent.
      listChanged: resolved.stateful,
      logger,
    }),
    stateful: resolved.stateful,
    bodyLimit: resolved.bodyLimit,
    scopesSupported: resolved.scopesSupported,
    streams,
    sdkUrl: resolved.resource?.href ?? `http://localhost${resolved.path}`,
  })
  const router = createMCPRouter({
    path: resolved.path,
    stateful: resolved.stateful,
    origin,
    requests,
    metadata: { authorizationServers: resolved.authorizationServers, resourceName: resolved.resourceName, scopesSupported: resolved.scopesSupported },
    logger,
  })
  const nodeListener = toNodeListener(router, { trustProxy: resolved.trustProxy })
  const fetchHandler = toFetchHandler(router, resolved.clientAddress === undefined ? {} : { clientAddress: resolved.clientAddress })

  return {
    async handle(req, res) {
      const url = req.url ?? '/'
      const queryStart = url.indexOf('?')
      if (!router.serves(queryStart === -1 ? url : url.slice(0, queryStart))) return false
      nodeListener(req, res)
      return true
    },
    async handleFetch(request, context) {
      if (!router.serves(new URL(request.url).pathname)) return undefined
      return fetchHandler(request, context)
    },
    sweep: () => servedSessions.sweep(),
    get openTransports() {
      return servedSessions.openTransports
    },
    get anonymousSessions() {
      return mcpSessions.anonymousCount
    },
    get notificationStreams() {
      return streams.count
    },
    async close() {
      streams.close()
      await servedSessions.close()
    },
  }
}
