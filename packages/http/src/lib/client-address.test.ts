import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRunner, pikkuSessionlessFunc, silentLogger } from '@pikku/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createHTTPHandler, type HTTPHandler } from './handler.js'
import { toFetchHandler } from './fetch-adapter.js'
import { forwardedForAddress } from './forwarded-for.js'
import { toNodeListener, type NodeListenerOptions } from './node-adapter.js'
import { wireHTTP } from './route.js'

const whoCalls = pikkuSessionlessFunc<void, { address: string | null; secure: boolean }>({
  func: (_services, _data, wire) => ({ address: wire.client?.address ?? null, secure: wire.http?.secure ?? false }),
})

function handler(): HTTPHandler {
  return createHTTPHandler({ runner: createRunner({ services: {}, logger: silentLogger }), routes: [wireHTTP({ method: 'GET', route: '/who', func: whoCalls })] })
}

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
})

async function serve(options?: NodeListenerOptions): Promise<string> {
  const server = createServer(toNodeListener(handler(), options))
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function who(base: string, headers: Record<string, string> = {}): Promise<{ address: string | null; secure: boolean }> {
  return (await (await fetch(`${base}/who`, { headers })).json()) as { address: string | null; secure: boolean }
}

describe('the client address a function sees (wire.client.address)', () => {
  it('is the connection peer by default', async () => {
    expect(await who(await serve())).toEqual({ address: '127.0.0.1', secure: false })
  })

  it('ignores a spoofed X-Forwarded-For (and X-Forwarded-Proto) unless the proxy is trusted', async () => {
    const base = await serve()
    expect(await who(base, { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' })).toEqual({ address: '127.0.0.1', secure: false })
    expect(await who(await serve({ trustProxy: false }), { 'x-forwarded-for': '203.0.113.9' })).toEqual({ address: '127.0.0.1', secure: false })
  })

  it('behind a trusted proxy, is the rightmost X-Forwarded-For entry, the one the proxy appended', async () => {
    const base = await serve({ trustProxy: true })
    // The client claimed 198.51.100.1; the proxy appended the address it saw.
    expect(await who(base, { 'x-forwarded-for': '198.51.100.1, 203.0.113.9', 'x-forwarded-proto': 'https' })).toEqual({ address: '203.0.113.9', secure: true })
    expect((await who(base, { 'x-forwarded-for': '[2001:DB8::7]:4711' })).address).toBe('2001:db8::7')
  })

  it('behind a trusted proxy, falls back to the peer when the rightmost entry is missing or not an address, never to an earlier entry', async () => {
    const base = await serve({ trustProxy: true })
    expect((await who(base)).address).toBe('127.0.0.1')
    expect((await who(base, { 'x-forwarded-for': '198.51.100.1, unknown' })).address).toBe('127.0.0.1')
    expect((await who(base, { 'x-forwarded-for': '198.51.100.1,' })).address).toBe('127.0.0.1')
  })

  it('refuses a trustProxy that is not a boolean when the listener is created', () => {
    expect(() => toNodeListener(handler(), { trustProxy: 'yes' as unknown as boolean })).toThrow('toNodeListener: trustProxy must be true or false; got "yes"')
  })

  it('on the fetch adapter, is what clientAddress reads from the runtime, and absent without it', async () => {
    const withAddress = toFetchHandler<{ remoteAddr: { hostname: string } }>(handler(), { clientAddress: (_request, info) => info?.remoteAddr.hostname })
    const request = (): Request => new Request('https://app.test/who', { headers: { 'x-forwarded-for': '198.51.100.1' } })
    expect(await (await withAddress(request(), { remoteAddr: { hostname: '192.0.2.44' } })).json()).toEqual({ address: '192.0.2.44', secure: true })
    expect(await (await toFetchHandler(handler())(request())).json()).toEqual({ address: null, secure: true })
    const behindProxy = toFetchHandler(handler(), { clientAddress: (req) => forwardedForAddress(req.headers.get('x-forwarded-for') ?? undefined) })
    expect(await (await behindProxy(new Request('https://app.test/who', { headers: { 'x-forwarded-for': '198.51.100.1, 192.0.2.45' } }))).json()).toEqual({ address: '192.0.2.45', secure: true })
    expect(() => toFetchHandler(handler(), { clientAddress: 'x' as never })).toThrow(/clientAddress must be a function/)
  })
})
