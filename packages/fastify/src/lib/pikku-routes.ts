import type { RoutedHTTPHandler } from '@pikku/http'
import type { FastifyPluginAsync } from 'fastify'
import { incomingFromFastify } from './fastify-request.js'

export interface PikkuRoutesOptions {
  /** The handler from `createHTTPHandler` whose routes are served. */
  handler: RoutedHTTPHandler
}

/**
 * Serves the handler's routes as an encapsulated Fastify plugin:
 * `app.register(pikkuRoutes, { handler, prefix: '/api' })`. Each Pikku route is registered with
 * Fastify's router, so the app's own routes (another path, or another method on a Pikku path) and
 * Fastify's 404 handling are untouched. Inside the plugin no content-type parser runs: the body
 * reaches Pikku unread and is read with the handler's `bodyLimit` and JSON rules; parsers of the
 * app's other routes are not affected.
 */
export const pikkuRoutes: FastifyPluginAsync<PikkuRoutesOptions> = async function pikkuRoutes(instance, options) {
  const handler = options?.handler
  if (handler === null || typeof handler !== 'object' || typeof handler.handle !== 'function' || !Array.isArray(handler.routes)) {
    throw new TypeError('pikkuRoutes needs { handler }: the handler from createHTTPHandler({ runner, routes }) in @pikku/http')
  }
  // Fastify would otherwise parse JSON with its own rules and limit (and answer 415 for an
  // application/*+json body). The stream is handed over untouched and read by the handler.
  instance.removeAllContentTypeParsers()
  instance.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
  const prefix = instance.prefix
  for (const { method, route } of handler.routes) {
    instance.route({
      method,
      url: route,
      // Pikku routes answer only the methods they declare.
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        const incoming = incomingFromFastify(request, prefix)
        // Fastify matched, but the Pikku router may not (an encoded segment): Fastify's 404, as for any path the app lacks.
        if (!handler.has(incoming.method, incoming.path)) return reply.callNotFound()
        const outgoing = await handler.handle(incoming)
        // The client is gone: there is no one to answer.
        if (outgoing.aborted === true) {
          reply.hijack()
          request.raw.destroy()
          return reply
        }
        reply.code(outgoing.status)
        for (const [name, value] of outgoing.headers) {
          // Fastify owns the framing of the body it writes; it appends repeated Set-Cookie values.
          if (name !== 'content-length' && name !== 'transfer-encoding') reply.header(name, value)
        }
        // A streamed body (Server-Sent Events) goes out as Fastify streams a web ReadableStream.
        return reply.send(outgoing.stream ?? outgoing.body)
      },
    })
  }
}
