import { PayloadTooLargeError } from '@pikku/core'
import type { HTTPHandler } from './handler.js'
import type { IncomingHTTP } from './incoming.js'

async function readLimited(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) {
    throw new PayloadTooLargeError(`The request body is larger than the limit of ${limit} bytes`)
  }
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw new PayloadTooLargeError(`The request body is larger than the limit of ${limit} bytes`)
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

/**
 * Serves the handler as a web-standard `(Request) => Promise<Response>`: Bun, Deno, edge runtimes,
 * or any server that speaks the fetch API.
 */
export function toFetchHandler(handler: HTTPHandler): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url)
    const incoming: IncomingHTTP = {
      method: request.method,
      path: url.pathname,
      query: url.search.length > 1 ? url.search.slice(1) : '',
      secure: url.protocol === 'https:',
      header: (name) => request.headers.get(name) ?? undefined,
      origin: () => url.origin,
      readBody: (limit) => readLimited(request, limit),
    }
    const response = await handler.handle(incoming)
    const headers = new Headers()
    for (const [name, value] of response.headers) headers.append(name, value)
    return new Response(response.body, { status: response.status, headers })
  }
}
