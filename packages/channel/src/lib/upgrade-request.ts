import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { nodeClientAddress, nodeRequestSecure } from '@pikku/http'
import type { PublicError } from '@pikku/core/protocol'

/**
 * The subprotocol a Pikku channel speaks. A client that offers any subprotocol must offer this
 * one, and it is the only one the server ever selects, so a credential offered as a subprotocol
 * (see `@pikku/middleware-channel-session`) is never echoed back in the handshake response.
 */
export const PIKKU_SUBPROTOCOL = 'pikku.v1'

/** What the session handler sees of an upgrade before the connection is accepted. */
export interface ChannelUpgradeRequest {
  /** The request path without the query string. */
  readonly path: string
  /** Raw query string without the leading '?', or ''. Never carries credentials. */
  readonly query: string
  /** A request header by lower-case name; repeated headers are joined with ', '. */
  header(name: string): string | undefined
  /** The subprotocols offered in `Sec-WebSocket-Protocol`, in the client's order. */
  readonly protocols: readonly string[]
  /** True over TLS (or when a trusted proxy says so; see `trustProxy`). */
  readonly secure: boolean
  /** The connection's peer (with a proxy in front, the proxy). */
  readonly remoteAddress: string | undefined
  /**
   * The client's address (`wire.client.address`, session metadata): the peer, or behind a trusted
   * proxy the rightmost `X-Forwarded-For` entry, by `@pikku/http`'s one rule (`nodeClientAddress`).
   */
  readonly clientAddress: string | undefined
  /** The local address the connection arrived on (loopback servers get the loopback origin rule). */
  readonly localAddress: string | undefined
}

/** Splits `Sec-WebSocket-Protocol` into its tokens (`ws` validates the syntax strictly later). */
export function parseOfferedProtocols(header: string | string[] | undefined): string[] {
  if (header === undefined) return []
  const joined = Array.isArray(header) ? header.join(',') : header
  const protocols: string[] = []
  for (const part of joined.split(',')) {
    const protocol = part.trim()
    if (protocol.length > 0) protocols.push(protocol)
  }
  return protocols
}

export function createUpgradeRequest(req: IncomingMessage, protocols: readonly string[], trustProxy: boolean): ChannelUpgradeRequest {
  const url = req.url ?? '/'
  const queryStart = url.indexOf('?')
  const headers = req.headers
  return {
    path: queryStart === -1 ? url : url.slice(0, queryStart),
    query: queryStart === -1 ? '' : url.slice(queryStart + 1),
    header: (name) => {
      const value = headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
    protocols,
    secure: nodeRequestSecure(req, trustProxy),
    remoteAddress: req.socket.remoteAddress,
    clientAddress: nodeClientAddress(req, trustProxy),
    localAddress: req.socket.localAddress,
  }
}

/**
 * Answers an upgrade with a plain HTTP error instead of switching protocols, then closes the
 * socket. The body has the same shape as `@pikku/http`'s error bodies.
 */
export function refuseUpgrade(socket: Duplex, status: number, error: PublicError, extraHeaders: Readonly<Record<string, string>> = {}): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = JSON.stringify({ error })
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
  for (const [name, value] of Object.entries(extraHeaders)) head += `${name}: ${value}\r\n`
  socket.once('finish', () => socket.destroy())
  socket.end(`${head}\r\n${body}`)
}
