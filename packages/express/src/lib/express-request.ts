import { PayloadTooLargeError } from '@pikku/core'
import type { IncomingHTTP, OutgoingHTTP } from '@pikku/http'
import { readNodeBody, writeNodeStream } from '@pikku/http'
import type { Request, Response } from 'express'

/**
 * A body Express's parsers left on `req.body`: an object (`express.json()`, `express.urlencoded()`)
 * is used as it is; text (`express.text()`) and bytes (`express.raw()`) are parsed by Pikku's
 * own rules. Undefined when no parser ran (body-parser 2 leaves `req.body` undefined then).
 */
function hostBody(req: Request): { readonly parsed?: { readonly value: unknown }; readonly text?: string } | undefined {
  const body: unknown = req.body
  if (body === undefined) return undefined
  if (typeof body === 'string') return { text: body }
  if (Buffer.isBuffer(body)) return { text: body.toString('utf8') }
  return { parsed: { value: body } }
}

/**
 * The transport-neutral view of an Express request. Address, scheme and host follow Express's
 * own `trust proxy` setting (`req.ip`, `req.secure`, `req.host`), so the app configures proxies
 * once; the path is the one below the mount point (`app.use('/api', …)`).
 */
export function incomingFromExpress(req: Request): IncomingHTTP {
  const url = req.url
  const queryStart = url.indexOf('?')
  const headers = req.headers
  const body = hostBody(req)
  const secure = req.secure
  return {
    method: req.method,
    path: req.path,
    query: queryStart === -1 ? '' : url.slice(queryStart + 1),
    secure,
    localAddress: req.socket.localAddress,
    clientAddress: req.ip,
    header: (name) => {
      const value = headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
    origin: () => {
      const host = req.host
      return host === undefined || host === '' ? undefined : `${secure ? 'https' : 'http'}://${host.toLowerCase()}`
    },
    readBody: (limit) => {
      if (body?.text === undefined) return readNodeBody(req, limit)
      // The host's parser has its own limit; the handler's still applies.
      return Buffer.byteLength(body.text) > limit
        ? Promise.reject(new PayloadTooLargeError(`The request body is larger than the limit of ${limit} bytes`))
        : Promise.resolve(body.text)
    },
    parsedBody: body?.parsed,
  }
}

/** Adds session headers to an Express response: Set-Cookie is appended, any other replaces. */
export function applyHeaders(res: Response, headers: readonly (readonly [string, string])[]): void {
  for (const [name, value] of headers) {
    if (name === 'set-cookie') res.append('Set-Cookie', value)
    else res.setHeader(name, value)
  }
}

/** Writes the handler's answer, keeping headers other middleware set (CORS, security headers). */
export function sendOutgoing(res: Response, outgoing: OutgoingHTTP): void {
  // The client is gone: there is no one to answer.
  if (outgoing.aborted === true) {
    res.destroy()
    return
  }
  res.status(outgoing.status)
  for (const [name, value] of outgoing.headers) {
    // The adapter owns the framing of the body it writes.
    if (name === 'content-length' || name === 'transfer-encoding') continue
    if (name === 'set-cookie') res.append('Set-Cookie', value)
    else res.setHeader(name, value)
  }
  if (outgoing.stream !== undefined) {
    // The client learns the status before the first event, however long that takes.
    res.flushHeaders()
    void writeNodeStream(res, outgoing.stream)
    return
  }
  if (outgoing.status === 204 || outgoing.status === 304 || outgoing.status < 200) res.end()
  else res.end(outgoing.body)
}
