import { createOriginPolicy, type IncomingHTTP, type OriginCheckRequest, type OriginPolicy, type OutgoingHTTP } from '@pikku/http'

export interface MCPOriginOptions {
  /** Browser origins allowed besides the server's own (and, on loopback servers, local ones). */
  allowedOrigins: readonly string[]
  /** The configured canonical endpoint URL, if any. */
  resource: URL | undefined
  /** The endpoint path, for URLs derived from the request. */
  path: string
  /** Passed to the origin policy: undefined decides per request from the local address. */
  loopback: boolean | undefined
  /** Told once when a public (non-loopback) server derives its resource URL from a Host. */
  warn: (message: string) => void
  /** The option's name in error messages. @default 'allowedOrigins' */
  where?: string
}

/** Which requests the MCP endpoint serves, and the URL it calls itself, by `@pikku/http`'s policy. */
export interface MCPOrigin {
  readonly policy: OriginPolicy
  /**
   * Why a request must be refused with 403 because of its `Host` (on a loopback server, a name
   * that is not a loopback one nor the configured resource's: DNS rebinding), or undefined.
   */
  hostRefusal(request: IncomingHTTP): string | undefined
  /** Why a request must be refused with 403 because of a browser `Origin` that is not allowed, or undefined. */
  originRefusal(request: IncomingHTTP): string | undefined
  /**
   * The CORS answer for a request from an allowed browser page (call after `originRefusal`): the
   * headers that let the page read answers, including the session id and challenges, and for a
   * preflight (`OPTIONS`) the whole 204 answer. Nothing for a request without `Origin`.
   */
  cors(request: IncomingHTTP, allow: string): { readonly headers: readonly (readonly [string, string])[]; readonly preflight?: OutgoingHTTP }
  /**
   * The endpoint's canonical URL: the configured one, else the request's own origin when its
   * `Host` passes the policy, else undefined. A Host the policy refuses is never reflected.
   */
  resourceFor(request: IncomingHTTP): string | undefined
}

/**
 * The policy's view of a request. The policy reads the request's own origin from `Host` (and
 * checks its form); a web `Request` built without a `Host` header (an edge runtime, a test) has
 * the host of its URL instead, which is what the runtime was asked for.
 */
export function originCheckRequest(request: IncomingHTTP): OriginCheckRequest {
  return {
    header: (name) => {
      const value = request.header(name)
      if (value !== undefined || name !== 'host') return value
      const own = request.origin()
      return own === undefined ? undefined : own.slice(own.indexOf('//') + 2)
    },
    secure: request.secure,
    localAddress: request.localAddress,
  }
}

const NO_CORS = Object.freeze({ headers: [] as const })
const CORS_REQUEST_HEADERS = 'authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id'
const CORS_EXPOSED_HEADERS = 'mcp-session-id, www-authenticate'

export function createMCPOrigin(options: MCPOriginOptions): MCPOrigin {
  const { resource, path } = options
  // The configured resource names the server's public origin: pages of it may call the endpoint.
  const allowedOrigins = resource === undefined ? options.allowedOrigins : [...options.allowedOrigins, resource.origin]
  const policy = createOriginPolicy(
    { allowedOrigins, ...(options.loopback === undefined ? {} : { loopback: options.loopback }) },
    options.where ?? 'allowedOrigins',
  )
  // A proxy in front of a loopback listener forwards the public Host: the configured resource's
  // host is the server's own name, which a rebinding page cannot send (it does not own that name).
  const resourceHost = resource?.host.toLowerCase()
  let warned = false

  const allowsHost = (request: OriginCheckRequest): boolean => {
    if (policy.allowsHost(request)) return true
    return resourceHost !== undefined && request.header('host')?.toLowerCase() === resourceHost
  }

  return {
    policy,
    hostRefusal(request) {
      // DNS rebinding: a hostile name resolved to 127.0.0.1 arrives with its own name as Host.
      if (allowsHost(originCheckRequest(request))) return undefined
      return 'The Host header does not name this MCP server (DNS-rebinding defence); set resourceUrl (metadata: { resourceUrl }) when a proxy forwards the public name'
    },
    originRefusal(request) {
      const origin = request.header('origin')
      if (origin === undefined || policy.allowsOrigin(origin, originCheckRequest(request))) return undefined
      return `Origin ${origin} is not allowed to use this MCP endpoint`
    },
    cors(request, allow) {
      const origin = request.header('origin')
      if (origin === undefined) return NO_CORS
      const headers: (readonly [string, string])[] = [
        ['access-control-allow-origin', origin],
        ['vary', 'origin'],
        ['access-control-expose-headers', CORS_EXPOSED_HEADERS],
      ]
      if (request.method !== 'OPTIONS') return { headers }
      const preflight: OutgoingHTTP = {
        status: 204,
        headers: [
          ...headers,
          ['access-control-allow-methods', allow],
          ['access-control-allow-headers', CORS_REQUEST_HEADERS],
          ['access-control-max-age', '600'],
        ],
        body: '',
      }
      return { headers, preflight }
    },
    resourceFor(incoming) {
      if (resource !== undefined) return resource.href
      const request = originCheckRequest(incoming)
      const own = policy.ownOrigin(request)
      if (own === undefined) return undefined
      if (!warned && !policy.isLoopbackServer(request)) {
        warned = true
        options.warn(`MCP: no resourceUrl is configured, so the protected-resource metadata names the origin each request's Host gives (${own}); set resourceUrl (metadata: { resourceUrl }) to the endpoint's public URL`)
      }
      return own + path
    },
  }
}
