import { BadRequestError } from '@pikku/core'
import { PIKKU_SUBPROTOCOL } from '@pikku/channel'

/**
 * A bearer token travels in `Sec-WebSocket-Protocol` as one extra offered subprotocol,
 * `pikku.bearer.<token>`, next to `pikku.v1`. Browsers cannot set an `Authorization` header on a
 * WebSocket, and a token in the URL ends up in access logs and browser history; the subprotocol
 * list is a request header, so it is neither logged by default nor kept in history.
 *
 * The server selects only `pikku.v1`, so the token is never echoed in the handshake response.
 * Subprotocols must be HTTP tokens (RFC 6455 §4.1, RFC 9110 §5.6.2): base64url and '.' qualify,
 * so both JWTs and opaque base64url tokens can be sent unchanged.
 */
export const BEARER_SUBPROTOCOL_PREFIX = 'pikku.bearer.'

// RFC 9110 tchar.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** The subprotocols a client offers to send `token`: `['pikku.v1', 'pikku.bearer.<token>']`. */
export function bearerSubprotocols(token: string): [string, string] {
  if (typeof token !== 'string' || token.length === 0 || !TOKEN.test(token)) {
    throw new TypeError('bearerSubprotocols: the token must be a non-empty HTTP token (a JWT or base64url string)')
  }
  return [PIKKU_SUBPROTOCOL, `${BEARER_SUBPROTOCOL_PREFIX}${token}`]
}

/** The bearer token offered among the subprotocols, if any. Two different tokens are refused. */
export function readSubprotocolToken(protocols: readonly string[]): string | undefined {
  let token: string | undefined
  for (const protocol of protocols) {
    if (!protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX)) continue
    const candidate = protocol.slice(BEARER_SUBPROTOCOL_PREFIX.length)
    if (token !== undefined && candidate !== token) {
      throw new BadRequestError('Offer at most one bearer token among the WebSocket subprotocols')
    }
    token = candidate
  }
  return token === '' ? undefined : token
}
