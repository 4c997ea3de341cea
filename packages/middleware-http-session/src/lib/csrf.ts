import { ForbiddenError } from '@pikku/core'
import { createOriginPolicy, type HTTPWireInfo } from '@pikku/http'

export interface CsrfOptions {
  /**
   * Origins (`https://app.example.com`) allowed to send cookie-authenticated POST, PUT, PATCH and
   * DELETE requests, and requests of any method that change a cookie session, in addition to the
   * request's own origin (the connection's scheme and the `Host` header). On a server listening
   * on a loopback address, any `localhost`, `127.0.0.1` or `[::1]` origin is accepted too, and the
   * own origin only for a loopback `Host` (DNS-rebinding defence). List your other front-end
   * origins here, or the public origin when a proxy rewrites `Host`. A trailing slash is accepted.
   * @default [] (own origin only)
   */
  allowedOrigins?: readonly string[]
  /**
   * Also refuse a cross-site request that would *start* a cookie session (login CSRF: a hostile
   * page logging the visitor into the attacker's account), whatever its method. Checked after the
   * call, before the session is stored. (Changes to an existing cookie session and logouts are
   * always checked, on every method.)
   * @default true
   */
  checkLogin?: boolean
}

/** A compiled CSRF policy. */
export interface CsrfPolicy {
  readonly checkLogin: boolean
  /** Throws `ForbiddenError` when the request came from a site that is not allowed. */
  assertSameSite(http: HTTPWireInfo): void
}

export const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export function resolveCsrfPolicy(options: CsrfOptions, where: string): CsrfPolicy {
  // The same origin rule as WebSocket upgrades and the MCP endpoint (one parser, @pikku/http).
  const origins = createOriginPolicy({ allowedOrigins: options.allowedOrigins ?? [] }, `${where}.allowedOrigins`)
  return {
    checkLogin: options.checkLogin ?? true,
    assertSameSite(http) {
      const site = http.header('sec-fetch-site')
      // Fetch metadata: the browser itself says the request came from this origin, or from the
      // user (address bar, bookmark). Nothing else to check.
      if (site === 'same-origin' || site === 'none') return
      const origin = http.header('origin')
      if (origin !== undefined) {
        if (origins.allowsOrigin(origin, http)) return
        throw refused(`from origin ${origin}`)
      }
      // A browser that sends Sec-Fetch-Site also sends Origin on these methods; without an Origin
      // to match against the allow-list, a cross-site or same-site request is refused.
      if (site !== undefined) throw refused(`(Sec-Fetch-Site: ${site})`)
      // Neither header: not a browser (curl, a server, a mobile app) or a very old one. Such a
      // client cannot be made to send the cookie by a third-party page, so it is allowed.
    },
  }
}

function refused(detail: string): ForbiddenError {
  return new ForbiddenError(
    `Cross-site request refused: this request carries a session cookie but was sent by another site ${detail}. ` +
      'Send it from the same origin, or add the origin to csrf.allowedOrigins on the server.',
  )
}
