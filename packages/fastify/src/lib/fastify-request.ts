import { readNodeBody, type IncomingHTTP } from '@pikku/http'
import type { FastifyRequest } from 'fastify'

/**
 * The transport-neutral view of a Fastify request. Address, scheme and host follow Fastify's own
 * `trustProxy` option (`request.ip`, `request.protocol`, `request.host`), so proxies are
 * configured once; `prefix` (the plugin's mount path) is removed from the path.
 */
export function incomingFromFastify(request: FastifyRequest, prefix: string): IncomingHTTP {
  const url = request.url
  const queryStart = url.indexOf('?')
  const fullPath = queryStart === -1 ? url : url.slice(0, queryStart)
  const path = prefix.length > 0 && fullPath.startsWith(prefix) ? fullPath.slice(prefix.length) || '/' : fullPath
  const headers = request.headers
  const secure = request.protocol === 'https'
  return {
    method: request.method,
    path,
    query: queryStart === -1 ? '' : url.slice(queryStart + 1),
    secure,
    localAddress: request.socket.localAddress,
    clientAddress: request.ip,
    header: (name) => {
      const value = headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
    origin: () => {
      const host = request.host
      return host === undefined || host === '' ? undefined : `${secure ? 'https' : 'http'}://${host.toLowerCase()}`
    },
    readBody: (limit) => readNodeBody(request.raw, limit),
  }
}
