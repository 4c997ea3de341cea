import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRunner, pikkuSessionlessFunc, silentLogger } from '@pikku/core'
import { describe, expect, it } from 'vitest'
import { incomingFromRequest } from './fetch-request.js'
import { createHTTPHandler } from './handler.js'
import { readNodeBody } from './node-adapter.js'
import { wireHTTP } from './route.js'

const echo = pikkuSessionlessFunc<unknown, unknown>({ func: (_services, data) => ({ data }) })
const handler = createHTTPHandler({
  runner: createRunner({ services: {} as never, logger: silentLogger }),
  routes: [wireHTTP({ method: 'PUT', route: '/items/:id', func: echo }), wireHTTP({ method: 'GET', route: '/items', func: echo })],
  rpc: { path: '/rpc', functions: { echo } },
})

describe('what framework adapters ask of the handler', () => {
  it('says which method and path it serves, so a host can keep every other request', () => {
    expect(handler.has('PUT', '/items/7')).toBe(true)
    expect(handler.has('GET', '/items/')).toBe(true)
    expect(handler.has('POST', '/rpc/echo')).toBe(true)
    expect(handler.has('GET', '/items/7')).toBe(false)
    expect(handler.has('GET', '/elsewhere')).toBe(false)
    expect(handler.routes).toEqual([
      { method: 'PUT', route: '/items/:id' },
      { method: 'GET', route: '/items' },
      { method: 'POST', route: '/rpc/echo' },
    ])
  })

  it('uses a body the host already parsed instead of reading the consumed stream', async () => {
    const request = new Request('http://localhost/items/7', { method: 'PUT', body: 'consumed', headers: { 'content-type': 'text/plain' } })
    await request.text()
    const response = await handler.handle(incomingFromRequest(request, { parsedBody: { value: { theme: 'dark' } } }))
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toEqual({ data: { theme: 'dark', id: '7' } })
  })

  it('routes on the path an adapter gives when the handler is mounted under a prefix', async () => {
    const request = new Request('http://localhost/api/items/8', { method: 'PUT', body: '{"a":1}', headers: { 'content-type': 'application/json' } })
    const response = await handler.handle(incomingFromRequest(request, { path: '/items/8' }))
    expect(JSON.parse(response.body)).toEqual({ data: { a: 1, id: '8' } })
  })

  it('reading a node request body that another middleware consumed fails at once with the reason, instead of hanging', async () => {
    const outcome = new Promise<string>((resolve) => {
      const server = createServer((req: IncomingMessage, res) => {
        req.on('end', () => {
          readNodeBody(req, 1000).then(
            () => resolve('read'),
            (error: Error) => resolve(error.message),
          )
          res.end()
        })
        req.resume()
      })
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo
        void fetch(`http://127.0.0.1:${port}/`, { method: 'PUT', body: '{"a":1}' }).then(async (response) => {
          await response.text()
          server.close()
        })
      })
    })
    expect(await outcome).toMatch(/already read by another middleware/)
  })
})
