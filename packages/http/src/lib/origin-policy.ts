/**
 * One rule for which browser pages may act on a server with the user's credentials: the HTTP CSRF
 * check, WebSocket upgrades and the MCP endpoint all ask the same policy, so they cannot disagree
 * (three earlier parsers differed on a trailing slash).
 *
 * An origin is allowed when it is
 * - listed in `allowedOrigins`, or
 * - the request's own origin (`scheme://Host`), unless the server listens on a loopback address
 *   and `Host` is not a loopback name (DNS rebinding: a hostile name resolved to 127.0.0.1 sends
 *   its own name as `Host` and `Origin`, so the two always "match"), or
 * - when the server listens on a loopback address: any `localhost`, `127.0.0.1` or `[::1]` origin,
 *   whatever its port (a page of another local port is as local as the server).
 */

export interface OriginPolicyOptions {
  /**
   * Origins (`https://app.example.com`) allowed besides the request's own. A trailing slash is
   * accepted; a path, query or credentials are refused at start-up.
   * @default []
   */
  allowedOrigins?: readonly string[]
  /**
   * Treat the server as listening on a loopback address even when the adapter cannot tell (a
   * fetch host that does not expose the local address). `true` relaxes the rule to any
   * loopback origin and tightens `Host` to loopback names; `false` turns both off.
   * @default undefined (decided per request from the connection's local address)
   */
  loopback?: boolean
}

/** What the policy reads of a request. Every adapter's request view fits it. */
export interface OriginCheckRequest {
  /** A request header by lower-case name. */
  header(name: string): string | undefined
  /** True when the request arrived over TLS (or a trusted proxy said so). */
  readonly secure: boolean
  /** The local address the connection arrived on, when the adapter knows it (`127.0.0.1`, `::1`). */
  readonly localAddress?: string | undefined
  /**
   * The request's own origin when the adapter knows it better than `Host` does (the URL of a web
   * `Request`); otherwise it is built from the scheme and `Host`.
   */
  readonly origin?: string | undefined
}

export interface OriginPolicy {
  /** The normalized allow-list, for CORS answers and error messages. */
  readonly allowedOrigins: readonly string[]
  /**
   * Whether a page of `origin` (an `Origin` header value) may act on this request. `null`, opaque
   * and malformed origins are never allowed.
   */
  allowsOrigin(origin: string, request: OriginCheckRequest): boolean
  /**
   * Whether the request's `Host` may be served: false only on a loopback server for a `Host` that
   * is not a loopback name (or is missing or malformed): the DNS-rebinding defence.
   */
  allowsHost(request: OriginCheckRequest): boolean
  /** True when the request arrived at a loopback server (by `loopback`, else its local address). */
  isLoopbackServer(request: OriginCheckRequest): boolean
  /**
   * The request's own origin (`scheme://host[:port]`, lower case, default port dropped) when its
   * `Host` header is well formed and passes `allowsHost`; undefined otherwise. Safe to put in
   * links and metadata: a Host the policy refuses is never reflected.
   */
  ownOrigin(request: OriginCheckRequest): string | undefined
}

const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]'])
// host[:port] as it may appear in a Host header: a name, an IPv4 address or a bracketed IPv6
// address. Anything else (spaces, '@', '/', quotes) is not a Host this policy trusts.
const HOST_HEADER = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/

/**
 * The canonical form of an origin (`scheme://host[:port]`: lower case, default port dropped, a
 * trailing slash removed), or undefined when `value` is not an http(s) origin. Used for the
 * configured list and for `Origin` headers alike.
 */
export function normalizeOrigin(value: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return undefined
  const trimmed = value.endsWith('/') ? value.slice(0, -1) : value
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  // An origin is only scheme, host and port: anything more is not one.
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.pathname !== '/') return undefined
  // A bare '?' or '#' leaves search and hash empty but is still not an origin.
  if (trimmed.includes('?') || trimmed.includes('#')) return undefined
  return url.origin
}

/** True for an address the connection arrived on that is on the loopback interface. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false
  if (address === '::1') return true
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return v4.startsWith('127.')
}

/** The host name of a `host[:port]` (lower case, brackets kept for IPv6), or undefined when malformed. */
function hostName(host: string): string | undefined {
  if (!HOST_HEADER.test(host)) return undefined
  const lower = host.toLowerCase()
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1)
  const colon = lower.indexOf(':')
  return colon === -1 ? lower : lower.slice(0, colon)
}

/**
 * Compiles an origin policy. `where` names the option in error messages
 * (`'csrf.allowedOrigins'`). Throws for an entry that is not an origin, saying which.
 */
export function createOriginPolicy(options: OriginPolicyOptions = {}, where = 'allowedOrigins'): OriginPolicy {
  const list = options.allowedOrigins ?? []
  if (!Array.isArray(list)) {
    throw new TypeError(`${where} must be an array of origins such as ['https://app.example.com']; got ${typeof list}`)
  }
  const allowed = new Set<string>()
  list.forEach((origin: unknown, index) => {
    const normalized = typeof origin === 'string' ? normalizeOrigin(origin) : undefined
    if (normalized === undefined) {
      let hint = ''
      if (typeof origin === 'string') {
        try {
          hint = ` (did you mean ${JSON.stringify(new URL(origin).origin)}?)`
        } catch {
          hint = ''
        }
      }
      throw new TypeError(`${where}[${index}] must be an origin, scheme://host[:port] with no path, such as 'https://app.example.com'; got ${JSON.stringify(origin)}${hint}`)
    }
    allowed.add(normalized)
  })
  if (options.loopback !== undefined && typeof options.loopback !== 'boolean') {
    throw new TypeError(`loopback must be true, false or left out; got ${JSON.stringify(options.loopback)}`)
  }

  const isLoopbackServer = (request: OriginCheckRequest): boolean => options.loopback ?? isLoopbackAddress(request.localAddress)

  const allowsHost = (request: OriginCheckRequest): boolean => {
    if (!isLoopbackServer(request)) return true
    const host = request.header('host')
    const name = host === undefined ? undefined : hostName(host)
    return name !== undefined && LOOPBACK_NAMES.has(name)
  }

  const ownOrigin = (request: OriginCheckRequest): string | undefined => {
    let own: string | undefined
    if (request.origin !== undefined) {
      own = normalizeOrigin(request.origin)
    } else {
      const host = request.header('host')
      if (host === undefined || hostName(host) === undefined) return undefined
      own = normalizeOrigin(`${request.secure ? 'https' : 'http'}://${host}`)
    }
    if (own === undefined) return undefined
    if (isLoopbackServer(request)) {
      // A loopback server is its own origin only under a loopback name (DNS rebinding).
      const name = hostName(own.slice(own.indexOf('//') + 2))
      if (name === undefined || !LOOPBACK_NAMES.has(name)) return undefined
    }
    return own
  }

  return {
    allowedOrigins: [...allowed],
    isLoopbackServer,
    allowsHost,
    ownOrigin,
    allowsOrigin(origin, request) {
      const normalized = normalizeOrigin(origin)
      if (normalized === undefined) return false
      if (allowed.has(normalized)) return true
      if (isLoopbackServer(request)) {
        const name = hostName(normalized.slice(normalized.indexOf('//') + 2))
        if (name !== undefined && LOOPBACK_NAMES.has(name)) return true
      }
      return normalized === ownOrigin(request)
    },
  }
}
