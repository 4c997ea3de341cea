import type { IncomingMessage, ServerResponse } from 'node:http'
import { PayloadTooLargeError } from '@pikku/core'
import { nodeClientAddress, nodeRequestSecure } from './client-address.js'
import type { HTTPHandler } from './handler.js'
import type { IncomingHTTP } from './incoming.js'
import { RequestAbortedError } from './request-aborted.js'

export interface NodeListenerOptions {
  /**
   * The server sits behind one proxy you run, which every request passes through: believe its
   * `X-Forwarded-Proto: https` for `wire.http.secure`, and take `wire.client.address` from the
   * rightmost `X-Forwarded-For` entry (the one the proxy appended; the peer's own address when
   * that entry is missing or malformed). Without it both headers are ignored: a client can write
   * anything in them.
   * @default false
   */
  trustProxy?: boolean
}

// Error codes of a connection the client closed or reset: the client went away, the server did
// nothing wrong.
const CLIENT_GONE: ReadonlySet<string | undefined> = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE'])

/**
 * Reads a `node:http` request body as UTF-8, with `IncomingHTTP.readBody`'s contract (413 past
 * `limit`, `RequestAbortedError` when the client goes away). For adapters to Node frameworks.
 * Rejects at once when something else already consumed the stream, instead of waiting forever.
 */
export function readNodeBody(req: IncomingMessage, limit: number): Promise<string> {
  if (req.readableEnded) {
    return Promise.reject(
      new Error('The request body was already read by another middleware, which left no parsed body for Pikku: serve the Pikku routes before that middleware'),
    )
  }
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) {
    // Drain what was sent so the connection can be reused, without keeping it.
    req.resume()
    return Promise.reject(new PayloadTooLargeError(`The request body is larger than the limit of ${limit} bytes`))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    req.on('data', (chunk: Buffer) => {
      if (failed) return
      size += chunk.length
      if (size > limit) {
        failed = true
        reject(new PayloadTooLargeError(`The request body is larger than the limit of ${limit} bytes`))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'))
    })
    // Node reports a connection the client closed or reset before the body ended as an error
    // with ECONNRESET ('aborted'). No 'close' listener besides: it cost about 2,500 instructions
    // per request with a body (2 % of a cookie-session PUT, by callgrind), for a stream destroyed
    // without an error, which only the app itself can do (and then no one awaits the answer).
    req.on('error', (error: Error & { code?: string }) => {
      if (failed) return
      failed = true
      reject(CLIENT_GONE.has(error.code) ? new RequestAbortedError({ cause: error }) : error)
    })
  })
}

/**
 * Writes a streamed body (`OutgoingHTTP.stream`) chunk by chunk, waiting for the socket to drain
 * when it is full, and cancels the stream when the client goes away first (so its producer stops).
 * Adapters to Node frameworks use it too.
 */
export async function writeNodeStream(res: ServerResponse, stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader()
  let ended = false
  const onClose = (): void => {
    if (!ended) reader.cancel().catch(() => undefined)
  }
  res.once('close', onClose)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (res.destroyed) continue
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once('drain', resolve)
          res.once('close', resolve)
        })
      }
    }
    ended = true
    res.end()
  } catch {
    ended = true
    res.destroy()
  } finally {
    res.off('close', onClose)
  }
}

/** Serves the handler on `node:http` / `node:https`: `http.createServer(toNodeListener(handler))`. */
export function toNodeListener(handler: HTTPHandler, options: NodeListenerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('toNodeListener takes an optional options object such as { trustProxy: true }')
  }
  const trustProxy = options.trustProxy ?? false
  if (typeof trustProxy !== 'boolean') {
    throw new TypeError(`toNodeListener: trustProxy must be true or false; got ${JSON.stringify(trustProxy)}`)
  }
  return (req, res) => {
    const url = req.url ?? '/'
    const queryStart = url.indexOf('?')
    const headers = req.headers
    const incoming: IncomingHTTP = {
      method: req.method ?? 'GET',
      path: queryStart === -1 ? url : url.slice(0, queryStart),
      query: queryStart === -1 ? '' : url.slice(queryStart + 1),
      secure: nodeRequestSecure(req, trustProxy),
      localAddress: req.socket.localAddress,
      clientAddress: nodeClientAddress(req, trustProxy),
      header: (name) => {
        const value = headers[name]
        return Array.isArray(value) ? value.join(', ') : value
      },
      origin: () => {
        const host = headers.host
        return host === undefined || host === '' ? undefined : `${incoming.secure ? 'https' : 'http'}://${host.toLowerCase()}`
      },
      readBody: (limit) => readNodeBody(req, limit),
    }
    handler.handle(incoming).then(
      (response) => {
        // The client is gone: there is no one to answer.
        if (response.aborted === true) {
          res.destroy()
          return
        }
        // Node's flat [name, value, name, value, ...] form: no object to build, and repeated
        // names (Set-Cookie) need no merging.
        const status = response.status
        const out: string[] = []
        for (const [name, value] of response.headers) {
          // The adapter owns the framing of the body it writes.
          if (name === 'content-length' || name === 'transfer-encoding') continue
          out.push(name, value)
        }
        if (response.stream !== undefined) {
          res.writeHead(status, out)
          // The client learns the status before the first event, however long that takes.
          res.flushHeaders()
          void writeNodeStream(res, response.stream)
          return
        }
        if (status === 204 || status === 304 || status < 200) {
          res.writeHead(status, out)
          res.end()
          return
        }
        // A known length: Node writes headers and body in one write instead of chunked encoding.
        out.push('content-length', String(Buffer.byteLength(response.body)))
        res.writeHead(status, out)
        res.end(response.body)
      },
      () => {
        // handle() turns every error into a response; this only guards against a broken adapter.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
        res.end('{"error":{"code":"INTERNAL","message":"Internal server error"}}')
      },
    )
  }
}
