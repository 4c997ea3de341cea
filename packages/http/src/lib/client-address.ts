import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { forwardedForAddress } from './forwarded-for.js'

/**
 * The rule every node server of Pikku applies to a request's client (HTTP requests and WebSocket
 * upgrades alike), so the two cannot disagree on who the client is.
 *
 * Without `trustProxy`, the connection's peer: `X-Forwarded-For` is whatever the client chose to
 * write. With it (one proxy you run in front of every request), the rightmost `X-Forwarded-For`
 * entry, the one that proxy appended; the peer when that entry is missing or not an address, never
 * an entry further left.
 */
export function nodeClientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'>, trustProxy: boolean): string | undefined {
  const peer = req.socket.remoteAddress
  if (!trustProxy) return peer
  const header = req.headers['x-forwarded-for']
  return forwardedForAddress(Array.isArray(header) ? header.join(', ') : header) ?? peer
}

/** Whether the request arrived over TLS, or (with `trustProxy`) the proxy says it did with `X-Forwarded-Proto: https`. */
export function nodeRequestSecure(req: Pick<IncomingMessage, 'headers' | 'socket'>, trustProxy: boolean): boolean {
  return (req.socket as TLSSocket).encrypted === true || (trustProxy && req.headers['x-forwarded-proto'] === 'https')
}
