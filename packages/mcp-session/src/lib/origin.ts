import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { createOriginPolicy, type OriginCheckRequest, type OriginPolicy } from '@pikku/http'

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
}

/** Which requests the MCP endpoint serves, and the URL it calls itself, by `@pikku/http`'s policy. */
export interface MCPOrigin {
  readonly policy: OriginPolicy
  /**
   * Why a request must be refused with 403 because of its `Host` (on a loopback server, a name
   * that is not a loopback one nor the configured resource's: DNS rebinding), or undefined.
   */
  hostRefusal(req: IncomingMessage): string | undefined
  /** Why a request must be refused with 403 because of a browser `Origin` that is not allowed, or undefined. */
  originRefusal(req: IncomingMessage): string | undefined
  /** True when the request's `Origin` header names an allowed page (for the CORS headers). */
  allowsOrigin(req: IncomingMessage, origin: string): boolean
  /**
   * The endpoint's canonical URL: the configured one, else the request's own origin when its
   * `Host` passes the policy, else undefined. A Host the policy refuses is never reflected.
   */
  resourceFor(req: IncomingMessage): string | undefined
}

/** The policy's view of a `node:http` request. */
export function originCheckRequest(req: IncomingMessage): OriginCheckRequest {
  return {
    header: (name) => {
      const value = req.headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
    secure: (req.socket as TLSSocket).encrypted === true,
    localAddress: req.socket.localAddress,
  }
}

export function createMCPOrigin(options: MCPOriginOptions): MCPOrigin {
  const { resource, path } = options
  // The configured resource names the server's public origin: pages of it may call the endpoint.
  const allowedOrigins = resource === undefined ? options.allowedOrigins : [...options.allowedOrigins, resource.origin]
  const policy = createOriginPolicy(
    { allowedOrigins, ...(options.loopback === undefined ? {} : { loopback: options.loopback }) },
    'allowedOrigins',
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
    hostRefusal(req) {
      // DNS rebinding: a hostile name resolved to 127.0.0.1 arrives with its own name as Host.
      if (allowsHost(originCheckRequest(req))) return undefined
      return 'The Host header does not name this MCP server (DNS-rebinding defence); set resourceUrl when a proxy forwards the public name'
    },
    originRefusal(req) {
      const origin = req.headers.origin
      if (origin === undefined || policy.allowsOrigin(origin, originCheckRequest(req))) return undefined
      return `Origin ${origin} is not allowed to use this MCP endpoint`
    },
    allowsOrigin(req, origin) {
      return policy.allowsOrigin(origin, originCheckRequest(req))
    },
    resourceFor(req) {
      if (resource !== undefined) return resource.href
      const request = originCheckRequest(req)
      const own = policy.ownOrigin(request)
      if (own === undefined) return undefined
      if (!warned && !policy.isLoopbackServer(request)) {
        warned = true
        options.warn(`MCP: no resourceUrl is configured, so the protected-resource metadata names the origin each request's Host gives (${own}); set resourceUrl to the endpoint's public URL`)
      }
      return own + path
    },
  }
}
