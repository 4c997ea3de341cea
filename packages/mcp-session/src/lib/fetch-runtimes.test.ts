import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { PikkuClientInfo, PikkuMiddleware } from '@pikku/core'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { createMCPHTTPHandler, type MCPHTTPHandler } from './http-handler.js'
import type { MCPHTTPHandlerOptions } from './options.js'
import { ALICE, connectClient, createTestApp, initializeBody, jsonRpcOf, type TestApp, type TestClient, tokenOf } from './test-app.test-support.js'

// handleFetch serves the endpoint to fetch runtimes (Bun, Deno, edge) and fetch frameworks: here
// Hono on @hono/node-server, a real listening server, with the SDK's own client.

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
})

interface HonoServer {
  readonly url: string
  readonly handler: MCPHTTPHandler
}

async function startHono(app: TestApp, options: Partial<MCPHTTPHandlerOptions> = {}): Promise<HonoServer> {
  const handler = createMCPHTTPHandler({
    mcp: app.mcp,
    runner: app.runner,
    sessions: app.sessions,
    ...options,
    session: { sweepInterval: 0, ...options.session },
    http: {
      // @hono/node-server hands the node request to the app as its environment.
      clientAddress: (_request, env) => (env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress,
      ...options.http,
    },
  })
  const hono = new Hono()
  hono.all('*', async (c) => (await handler.handleFetch(c.req.raw, c.env)) ?? c.text('not found', 404))
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started as Server))
  })
  cleanups.push(async () => {
    await handler.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, handler }
}

async function sdkClient(mcpUrl: string, options: Parameters<typeof connectClient>[1] = {}): Promise<TestClient> {
  const connected = await connectClient(mcpUrl, options)
  cleanups.push(() => connected.close())
  return connected
}

describe('the endpoint on a fetch framework (Hono)', () => {
  it('serves the SDK client: streamed answers, an in-band login bound to the MCP session, and DELETE', async () => {
    const seen: (PikkuClientInfo | undefined)[] = []
    const record: PikkuMiddleware = async (_services, wire, next) => {
      seen.push(wire.client)
      await next()
    }
    const app = createTestApp({ middleware: [record] })
    const { url } = await startHono(app)
    const agent = await sdkClient(`${url}/mcp`)
    expect(agent.transport.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const token = tokenOf(await agent.call('login', ALICE))
    expect((await agent.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    // The address comes from the runtime through http.clientAddress; the label from initialize.
    expect(seen.at(-1)).toEqual({ address: '127.0.0.1', label: 'pikku-test-client/0.0.1' })
    await agent.transport.terminateSession()
    expect(await app.sessions.loadByToken(token)).toBeUndefined()
  })

  it('holds a call in flight on its stream and answers it when the MCP session ends under it', async () => {
    const app = createTestApp()
    const { url, handler } = await startHono(app, { session: { lifetime: { idleTimeout: 10 * 60_000 } } })
    const agent = await sdkClient(`${url}/mcp`)
    const pending = agent.client.callTool({ name: 'slow', arguments: {} }, undefined, { timeout: 5_000 }).catch((error: unknown) => error)
    await expect.poll(() => app.gate.waiting).toBe(1)
    expect(handler.openTransports).toBe(1)
    app.clock.advance(10 * 60_000)
    expect(await handler.sweep()).toBe(1)
    expect(await pending).toBeInstanceOf(Error)
    expect(handler.openTransports).toBe(0)
    app.gate.open()
  })

  it('answers the metadata, leaves other paths to the app, and refuses a rebinding Host when told it is on loopback', async () => {
    const app = createTestApp()
    const { url } = await startHono(app, { http: { loopback: true } })
    const metadata = await fetch(`${url}/.well-known/oauth-protected-resource/mcp`)
    expect(await metadata.json()).toMatchObject({ resource: `${url}/mcp`, resource_name: 'pikku-test' })
    expect((await fetch(`${url}/other`)).status).toBe(404)

    const handler = createMCPHTTPHandler({ mcp: app.mcp, runner: app.runner, sessions: app.sessions, session: { sweepInterval: 0 }, http: { loopback: true } })
    cleanups.push(() => handler.close())
    expect(await handler.handleFetch(new Request('http://127.0.0.1/other'))).toBeUndefined()
    const init = { method: 'POST', body: initializeBody(), headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }
    const rebound = await handler.handleFetch(new Request('http://evil.example/mcp', { ...init, headers: { ...init.headers, host: 'evil.example' } }))
    expect(rebound?.status).toBe(403)
    const local = await handler.handleFetch(new Request('http://localhost:8787/mcp', init))
    expect(local?.status).toBe(200)
    expect(local?.headers.get('mcp-session-id')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(jsonRpcOf(await local!.text()).result).toMatchObject({ serverInfo: { name: 'pikku-test' } })
  })
})
