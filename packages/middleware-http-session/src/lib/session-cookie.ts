import type { Logger } from '@pikku/core'
import { stringifySetCookie } from 'cookie'
import { readCookieValues, type CookieValues } from './cookie-header.js'

/**
 * The most a browser is required to keep of one cookie (RFC 6265 §6.1), counting name, value and
 * attributes. Larger cookies are silently dropped by some browsers, which looks like a logout.
 */
export const COOKIE_SIZE_LIMIT = 4096

/**
 * The most values of the session cookie tried for one request. A browser sends one per matching
 * domain and path (the host's own, a parent domain's, a longer path's), so a few cover every real
 * case; the bound keeps a request with many planted copies from costing a verification each.
 */
export const MAX_SESSION_COOKIES = 4

export interface CookieSessionOptions {
  /**
   * The cookie name. With `hostPrefix` it is sent as `__Host-<name>`.
   * @default 'pikku-session'
   */
  name?: string
  /**
   * Prefix the name with `__Host-`: browsers then accept the cookie only when it is Secure, has
   * Path=/ and no Domain, and set by the host itself, so a sibling subdomain cannot plant, shadow
   * or overwrite it. On whenever the cookie can carry it; turning it off needs `hostPrefix: false`.
   * @default true when `secure` is true, `path` is '/' and no `domain` is set; false otherwise
   */
  hostPrefix?: boolean
  /**
   * Send the cookie over HTTPS only. Turn off only for development on http://localhost; doing so
   * logs a warning when the first cookie is sent.
   * @default true
   */
  secure?: boolean
  /**
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict' | 'none'
  /** @default '/' */
  path?: string
  /**
   * Share the cookie with subdomains of this domain. Leave unset (host-only) unless you need it.
   * @default undefined
   */
  domain?: string
  /**
   * Give the cookie a Max-Age (the session's absolute expiry), so it survives a browser restart.
   * When false the cookie ends with the browser session; the server-side timeouts apply either way.
   * @default true
   */
  persistent?: boolean
  /**
   * On logout also send `Clear-Site-Data: "cookies"`, which makes the browser drop every cookie of
   * the origin (not only the session cookie).
   * @default false
   */
  clearSiteData?: boolean
}

/** Cookie settings resolved and validated once, at creation. */
export interface SessionCookie {
  readonly name: string
  readonly persistent: boolean
  readonly clearSiteData: boolean
  /**
   * The session cookie's well-formed values in a `Cookie` header: usually one; several, in the
   * browser's order, when cookies of the same name arrived (at most `MAX_SESSION_COOKIES`).
   * Undefined when there is none. Try them in turn with `firstVerified`.
   */
  read(cookieHeader: string | undefined): CookieValues | undefined
  /** A `Set-Cookie` value storing `value`; `maxAge` in seconds, or undefined for a browser-session cookie. */
  serialize(value: string, maxAge: number | undefined): string
  /** The length of that `Set-Cookie` value, for checks at creation (nothing is sent, nothing logged). */
  serializedLength(value: string, maxAge: number | undefined): number
  /** A `Set-Cookie` value that makes the browser delete the cookie. */
  readonly expired: string
}

// RFC 6265 cookie-name: an HTTP token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const HOST_PREFIX = '__Host-'

/**
 * Resolves cookie options. `where` names the option in error messages. Throws for combinations a
 * browser would reject, so the mistake shows at start-up rather than as a cookie that never sticks.
 */
export function resolveSessionCookie(
  options: CookieSessionOptions,
  where: string,
  logger: Logger,
  wellFormed: (value: string) => boolean = () => true,
): SessionCookie {
  const baseName = options.name ?? 'pikku-session'
  if (!TOKEN.test(baseName)) {
    throw new TypeError(`${where}.name must be a cookie name (letters, digits and !#$%&'*+.^_\`|~-); got ${JSON.stringify(baseName)}`)
  }
  if (/^__(host|secure)-/i.test(baseName)) {
    throw new TypeError(`${where}.name must not carry a cookie prefix (the __Host- prefix is added by hostPrefix); got ${JSON.stringify(baseName)}`)
  }
  const secure = options.secure ?? true
  const sameSite = options.sameSite ?? 'lax'
  const path = options.path ?? '/'
  const domain = options.domain
  if (options.hostPrefix !== undefined && typeof options.hostPrefix !== 'boolean') {
    throw new TypeError(`${where}.hostPrefix must be true or false; got ${JSON.stringify(options.hostPrefix)}`)
  }
  // On by default wherever a browser would accept it: a __Host- cookie cannot be planted or
  // shadowed by a sibling subdomain, which an unprefixed one can.
  const hostPrefix = options.hostPrefix ?? (secure && path === '/' && domain === undefined)
  if (!['lax', 'strict', 'none'].includes(sameSite)) {
    throw new TypeError(`${where}.sameSite must be 'lax', 'strict' or 'none'; got ${JSON.stringify(sameSite)}`)
  }
  if (typeof path !== 'string' || !path.startsWith('/') || /[;\s]/.test(path)) {
    throw new TypeError(`${where}.path must be a path starting with '/'; got ${JSON.stringify(path)}`)
  }
  if (domain !== undefined && (typeof domain !== 'string' || !/^[A-Za-z0-9.-]+$/.test(domain))) {
    throw new TypeError(`${where}.domain must be a domain name; got ${JSON.stringify(domain)}`)
  }
  if (hostPrefix) {
    if (!secure) throw new TypeError(`${where}: hostPrefix needs secure: true (browsers reject __Host- cookies without Secure)`)
    if (path !== '/') throw new TypeError(`${where}: hostPrefix needs path '/'; got ${JSON.stringify(path)}`)
    if (domain !== undefined) throw new TypeError(`${where}: hostPrefix cannot be combined with domain (a __Host- cookie is host-only)`)
  }
  if (sameSite === 'none' && !secure) {
    throw new TypeError(`${where}: sameSite 'none' needs secure: true (browsers reject it otherwise)`)
  }
  // Warned once, when the first cookie is sent: not at creation, since the same strategy also
  // serves processes that never send a cookie (a CLI, an MCP stdio server), whose output it would
  // clutter; and not per request, which would drown the log.
  let insecureWarned = secure
  const name = hostPrefix ? `${HOST_PREFIX}${baseName}` : baseName
  // A browser never keeps more than 4096 bytes per cookie; a larger value is not ours.
  const accept = (value: string): boolean => value.length > 0 && value.length <= COOKIE_SIZE_LIMIT && wellFormed(value)
  const attributes = { httpOnly: true, secure, sameSite, path, ...(domain === undefined ? {} : { domain }) } as const
  return {
    name,
    persistent: options.persistent ?? true,
    clearSiteData: options.clearSiteData ?? false,
    read(cookieHeader) {
      if (cookieHeader === undefined || cookieHeader.length === 0) return undefined
      // Values are kept raw: session cookies are base64url and need no decoding, and a
      // percent-sequence in one is simply an invalid credential. Among duplicates, malformed
      // values are left out before any verification and do not count against the bound; a single
      // value goes straight to verification, which judges its shape anyway.
      const values = readCookieValues(cookieHeader, name, accept, MAX_SESSION_COOKIES)
      if (typeof values !== 'string') return values
      return values.length === 0 || values.length > COOKIE_SIZE_LIMIT ? undefined : values
    },
    serializedLength(value, maxAge) {
      return stringifySetCookie(name, value, maxAge === undefined ? attributes : { ...attributes, maxAge }).length
    },
    serialize(value, maxAge) {
      if (!insecureWarned) {
        insecureWarned = true
        logger.warn(
          `${where}.secure is false: the session cookie is being sent over plain HTTP. Use this only for development on http://localhost.`,
        )
      }
      return stringifySetCookie(name, value, maxAge === undefined ? attributes : { ...attributes, maxAge })
    },
    expired: stringifySetCookie(name, '', { ...attributes, maxAge: 0, expires: new Date(0) }),
  }
}
