import type { ChannelUpgradeRequest } from '@pikku/channel'
import { createOriginPolicy } from '@pikku/http'

/**
 * Which pages may open a WebSocket that carries the session cookie. Browsers apply no CORS to
 * WebSockets and send cookies with the upgrade, so without this check any site could open a
 * socket as its visitor (cross-site WebSocket hijacking, ASVS 5.0 V4.4.2). The origin rule is
 * `@pikku/http`'s, the same as the HTTP CSRF check and the MCP endpoint.
 */
export interface UpgradeOriginPolicy {
  /** True when the upgrade's Origin is the server's own, a loopback one on a loopback server, or listed. */
  allows(request: ChannelUpgradeRequest): boolean
}

export function createUpgradeOriginPolicy(allowedOrigins: readonly string[], where: string): UpgradeOriginPolicy {
  const policy = createOriginPolicy({ allowedOrigins }, where)
  return {
    allows(request) {
      const origin = request.header('origin')
      if (origin === undefined) {
        // Browsers always send Origin with a WebSocket handshake (RFC 6455 §4.1). A client without
        // one is not a browser, and no third-party page can make it send the cookie — unless it
        // claims to be a browser through fetch metadata.
        return request.header('sec-fetch-site') === undefined
      }
      // The page's origin is http(s), the socket's scheme ws(s): the policy compares page forms.
      return policy.allowsOrigin(origin, request)
    },
  }
}

/** Whether a `Cookie` header carries a cookie named `name` (whatever its value). */
export function carriesCookie(header: string | undefined, name: string): boolean {
  if (header === undefined) return false
  let start = 0
  while (start < header.length) {
    let end = header.indexOf(';', start)
    if (end === -1) end = header.length
    const pair = header.slice(start, end).trim()
    if (pair.startsWith(name) && pair.charCodeAt(name.length) === 61 /* = */) return true
    start = end + 1
  }
  return false
}
