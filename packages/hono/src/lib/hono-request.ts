import { PayloadTooLargeError } from '@pikku/core'
import { incomingFromRequest, type IncomingHTTP } from '@pikku/http'
import type { Context } from 'hono'

/**
 * The transport-neutral view of a Hono request, at `path`. A body another middleware already read
 * through `c.req` (`c.req.json()`, a validator, `c.req.parseBody()`) comes from Hono's body
 * cache: a parsed form is used as it is, anything else is read again as text and parsed by
 * Pikku's rules. Only a body read from `c.req.raw` directly is gone, and that is said plainly.
 */
export async function incomingFromHono(c: Context, path: string, clientAddress: string | undefined): Promise<IncomingHTTP> {
  const incoming = incomingFromRequest(c.req.raw, { path, clientAddress })
  const cache = c.req.bodyCache
  if (cache.formData !== undefined) return { ...incoming, parsedBody: { value: await c.req.parseBody() } }
  if (Object.keys(cache).length > 0) {
    const text = await c.req.text()
    return {
      ...incoming,
      readBody: (limit) =>
        Buffer.byteLength(text) > limit ? Promise.reject(new PayloadTooLargeError(`The request body is larger than the limit of ${limit} bytes`)) : Promise.resolve(text),
    }
  }
  if (c.req.raw.bodyUsed) {
    return {
      ...incoming,
      readBody: () =>
        Promise.reject(new Error('The request body was read from c.req.raw by another middleware, so it is gone: read it through c.req (c.req.json(), c.req.text()), which keeps a copy')),
    }
  }
  return incoming
}
