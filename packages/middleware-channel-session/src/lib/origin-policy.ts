import type { ChannelUpgradeRequest } from '@pikku/channel'

/**
 * Which pages may open a WebSocket that carries the session cookie. Browsers apply no CORS to
 * WebSockets and send cookies with the upgrade, so without this check any site could open a
 * socket as its visitor (cross-site WebSocket hijacking, ASVS 5.0 V4.4.2).
 */
export interface OriginPolicy {
  /** True when the upgrade's Origin is the server's own or on the allow-list. */
  allows(request: ChannelUpgradeRequest): boolean
}

export function createOriginPolicy(allowedOrigins: readonly string[], where: string): OriginPolicy {
  if (!Array.isArray(allowedOrigins)) {
    throw new TypeError(`${where} must be an array of origins such as ['https://app.example.com']`)
  }
  const allowed = new Set<string>()
  allowedOrigins.forEach((origin, index) => {
    let parsed: URL
    try {
      parsed = new URL(origin)
    } catch {
      throw new TypeError(`${where}[${index}] must be an origin such as 'https://app.example.com'; got ${JSON.stringify(origin)}`)
    }
    const exact = typeof origin === 'string' ? origin.replace(/\/$/, '').toLowerCase() : ''
    if (parsed.origin === 'null' || parsed.origin !== exact) {
      throw new TypeError(`${where}[${index}] must be only scheme://host[:port], without a path or a default port; got ${JSON.stringify(origin)} (did you mean ${JSON.stringify(parsed.origin)}?)`)
    }
    allowed.add(parsed.origin)
  })
  return {
    allows(request) {
      const origin = request.header('origin')
      if (origin === undefined) {
        // Browsers always send Origin with a WebSocket handshake (RFC 6455 §4.1). A client without
        // one is not a browser, and no third-party page can make it send the cookie — unless it
        // claims to be a browser through fetch metadata.
        return request.header('sec-fetch-site') === undefined
      }
      if (origin === 'null') return false
      const lower = origin.toLowerCase()
      if (allowed.has(lower)) return true
      const host = request.header('host')
      // The page's origin is http(s), the socket's scheme ws(s): compare against the page form.
      return host !== undefined && lower === `${request.secure ? 'https' : 'http'}://${host.toLowerCase()}`
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
