import { type Logger } from '@pikku/core'
import { toPublicError } from '@pikku/core/protocol'
import { type HTTPHandler, type IncomingHTTP, type OutgoingHTTP, RequestAbortedError } from '@pikku/http'
import { INVALID_REQUEST } from './json-rpc-body.js'
import { JSON_RPC_CODE } from './json-rpc-codes.js'
import { jsonRpcError, publicErrorResponse, withHeaders } from './json-rpc-responses.js'
import type { MCPRequests } from './mcp-requests.js'
import type { MCPOrigin } from './origin.js'
import { metadataResponse, PROTECTED_RESOURCE_PATH, type ProtectedResourceMetadataOptions } from './protected-resource.js'

export interface MCPRouterOptions {
  readonly path: string
  readonly stateful: boolean
  readonly origin: MCPOrigin
  readonly requests: MCPRequests
  readonly metadata: Omit<ProtectedResourceMetadataOptions, 'resource'>
  readonly logger: Logger
}

/** The endpoint as `@pikku/http` serves it; `serves` tells its paths from the app's others. */
export interface MCPRouter extends HTTPHandler {
  /** True for the MCP path and the two locations of its protected-resource metadata. */
  serves(path: string): boolean
}

// The client went away before its request was read: the adapters send nothing.
const ABORTED: OutgoingHTTP = Object.freeze({ status: 499, headers: [], body: '', aborted: true })
const NOT_SERVED: OutgoingHTTP = Object.freeze({ status: 404, headers: [], body: '' })

/**
 * Routes one request: the metadata document; on the MCP path the Host and Origin checks (403),
 * CORS, then POST, and GET and DELETE (stateful mode), or 405. Every error becomes a JSON-RPC answer.
 */
export function createMCPRouter(options: MCPRouterOptions): MCPRouter {
  const { path, stateful, origin, requests, logger } = options
  const metadataPaths = new Set([PROTECTED_RESOURCE_PATH, PROTECTED_RESOURCE_PATH + path])
  const allow = stateful ? 'GET, POST, DELETE' : 'POST'

  const dispatch = async (request: IncomingHTTP): Promise<OutgoingHTTP> => {
    try {
      if (request.method === 'POST') return await requests.post(request)
      if (request.method === 'DELETE' && stateful) return await requests.delete(request)
      if (request.method === 'GET' && stateful) return await requests.get(request)
      // Stateless mode has no MCP session to attach a standalone stream to (the specification's 405).
      return jsonRpcError(405, INVALID_REQUEST, `Method ${request.method} not allowed; use ${allow}`, null, [['allow', allow]])
    } catch (error) {
      if (error instanceof RequestAbortedError) return ABORTED
      // The public error as data, as tool errors carry it: its id finds the logged detail.
      return publicErrorResponse(toPublicError(error, logger))
    }
  }

  const mcp = async (request: IncomingHTTP): Promise<OutgoingHTTP> => {
    const refused = origin.hostRefusal(request) ?? origin.originRefusal(request)
    if (refused !== undefined) return jsonRpcError(403, JSON_RPC_CODE.FORBIDDEN, refused)
    // An allowed browser origin may read the answers, including the session id and challenges.
    const cors = origin.cors(request, allow)
    return cors.preflight ?? withHeaders(await dispatch(request), cors.headers)
  }

  const metadata = (request: IncomingHTTP): OutgoingHTTP => {
    // Any page may read the metadata (no Origin check), but a rebinding Host is refused here too.
    const hostRefusal = origin.hostRefusal(request)
    return metadataResponse(request.method, hostRefusal === undefined ? origin.resourceFor(request) : undefined, hostRefusal, options.metadata)
  }

  return {
    serves: (requestPath) => requestPath === path || metadataPaths.has(requestPath),
    async handle(request) {
      if (request.path === path) return mcp(request)
      if (metadataPaths.has(request.path)) return metadata(request)
      return NOT_SERVED
    },
  }
}
