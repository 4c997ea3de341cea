import { JSON_RPC_CODE } from './json-rpc-codes.js'
import { describe, expect, it } from 'vitest'
import {
  connectClient,
  httpStatusOf,
  initializeBody,
  jsonRpcOf,
  perTest,
  rawRequest,
  type TestServer,
} from './test-app.test-support.js'

// The MCP endpoint's origin rule is @pikku/http's (the one the HTTP CSRF check and WebSocket
// upgrades use), plus the Host check of a loopback server; the resource URL it publishes never
// comes from a Host that rule refuses.

const { setup, client } = perTest()

async function serve(options: Parameters<typeof setup>[0] = {}): Promise<TestServer & { port: string }> {
  const { server } = await setup(options)
  return { ...server, port: new URL(server.url).port }
}

function initialize(server: TestServer, headers: Record<string, string>): ReturnType<typeof rawRequest> {
  return rawRequest(server.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: initializeBody(),
  })
}

const CALL_PROFILE = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'getProfile', arguments: {} } })

describe('origins on a server listening on a loopback address', () => {
  it('accepts its own origin and any localhost, 127.0.0.1 or [::1] origin and Host, whatever the port', async () => {
    const server = await serve()
    const { port } = server
    for (const [host, origin] of [
      [`127.0.0.1:${port}`, `http://127.0.0.1:${port}`],
      [`localhost:${port}`, `http://localhost:${port}`],
      [`localhost:${port}`, 'http://localhost:5173'],
      [`[::1]:${port}`, 'http://[::1]:8080'],
      [`127.0.0.1:${port}`, `http://127.0.0.1:${port}/`],
      ['localhost', undefined],
    ] as const) {
      const answer = await initialize(server, origin === undefined ? { host } : { host, origin })
      expect({ host, origin, status: answer.status }).toEqual({ host, origin, status: 200 })
    }
  })

  it('refuses a rebinding Host (a foreign name resolved to 127.0.0.1) with 403, with or without an Origin', async () => {
    const server = await serve()
    const attempts: Record<string, string>[] = [{ host: 'evil.example' }, { host: 'evil.example', origin: 'http://evil.example' }, { host: `evil.example:${server.port}` }]
    for (const headers of attempts) {
      const answer = await initialize(server, headers)
      expect(answer.status).toBe(403)
      expect(jsonRpcOf(answer.body).error?.code).toBe(JSON_RPC_CODE.FORBIDDEN)
      expect(answer.body).not.toContain('evil.example')
    }
  })

  it('refuses a page of another site with 403, and its preflight too', async () => {
    const server = await serve()
    expect((await initialize(server, { host: `127.0.0.1:${server.port}`, origin: 'http://evil.example' })).status).toBe(403)
    const preflight = await rawRequest(server.mcpUrl, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })
    expect(preflight.status).toBe(403)
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('serves the MCP SDK client from a localhost page, and refuses it from another site', async () => {
    const server = await serve()
    const local = await client(server.mcpUrl, { headers: { origin: `http://localhost:${server.port}` } })
    expect(await local.toolNames()).toContain('login')
    expect(await httpStatusOf(connectClient(server.mcpUrl, { headers: { origin: 'https://evil.example' } }))).toBe(403)
  })

  it('answers to the host of the configured resourceUrl, as a proxy in front of a loopback listener forwards it', async () => {
    const server = await serve({ metadata: { resourceUrl: 'https://mcp.example.com/mcp' } })
    expect((await initialize(server, { host: 'mcp.example.com', origin: 'https://mcp.example.com' })).status).toBe(200)
    expect((await initialize(server, { host: 'other.example.com' })).status).toBe(403)
  })
})

describe('origins on a server that is not on loopback (loopback: false)', () => {
  it('accepts any Host, its own origin under that Host and the listed origins, and refuses other pages', async () => {
    const server = await serve({ http: { loopback: false, allowedOrigins: ['https://app.example.com/'] } })
    expect((await initialize(server, { host: 'api.example.com', origin: 'http://api.example.com' })).status).toBe(200)
    expect((await initialize(server, { host: 'api.example.com', origin: 'https://app.example.com' })).status).toBe(200)
    expect((await initialize(server, { host: 'api.example.com', origin: 'http://localhost:3000' })).status).toBe(403)
    expect((await initialize(server, { host: 'api.example.com', origin: 'https://evil.example' })).status).toBe(403)
  })
})

describe('the resource URL in the metadata and the 401 challenge', () => {
  it('comes from the configured resourceUrl whatever the Host, with a short cache lifetime', async () => {
    const server = await serve({ metadata: { resourceUrl: 'https://mcp.example.com/mcp' }, http: { loopback: false } })
    const metadata = await rawRequest(`${server.url}/.well-known/oauth-protected-resource`, { headers: { host: 'attacker.example' } })
    expect(metadata.status).toBe(200)
    expect(JSON.parse(metadata.body)).toMatchObject({ resource: 'https://mcp.example.com/mcp' })
    const maxAge = Number(/max-age=(\d+)/.exec(metadata.headers['cache-control'] ?? '')?.[1])
    expect(maxAge).toBeLessThanOrEqual(300)

    const init = await initialize(server, { host: 'attacker.example' })
    const sessionId = init.headers['mcp-session-id'] as string
    const call = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { host: 'attacker.example', 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId },
      body: CALL_PROFILE,
    })
    expect(call.status).toBe(401)
    expect(call.headers['www-authenticate']).toBe('Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"')
  })

  it('without resourceUrl, comes from a Host the origin policy accepts and never from one it refuses', async () => {
    const server = await serve()
    const own = await rawRequest(`${server.url}/.well-known/oauth-protected-resource`, { headers: { host: `localhost:${server.port}` } })
    expect(JSON.parse(own.body)).toMatchObject({ resource: `http://localhost:${server.port}/mcp` })
    expect(own.headers['cache-control']).toBe('public, max-age=60')
    const rebound = await rawRequest(`${server.url}/.well-known/oauth-protected-resource`, { headers: { host: 'evil.example' } })
    expect(rebound.status).toBe(403)
    expect(rebound.body).not.toContain('evil.example')
  })

  it('names no metadata at all when the Host is malformed and no resourceUrl is set', async () => {
    const server = await serve({ http: { loopback: false } })
    const hostile = 'evil.example", error="nope'
    const init = await initialize(server, { host: `127.0.0.1:${server.port}` })
    const call = await rawRequest(server.mcpUrl, {
      method: 'POST',
      headers: { host: hostile, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': init.headers['mcp-session-id'] as string },
      body: CALL_PROFILE,
    })
    expect(call.status).toBe(401)
    expect(call.headers['www-authenticate']).toBe('Bearer')
    const metadata = await rawRequest(`${server.url}/.well-known/oauth-protected-resource`, { headers: { host: hostile } })
    expect(metadata.status).toBe(400)
    expect(metadata.body).not.toContain('evil.example')
  })

  it('warns once when a server that is not on loopback derives its resource URL from the Host', async () => {
    const warnings: string[] = []
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string) => void warnings.push(message) }
    const server = await serve({ http: { loopback: false }, logger })
    for (let i = 0; i < 3; i++) await rawRequest(`${server.url}/.well-known/oauth-protected-resource`, { headers: { host: 'api.example.com' } })
    expect(warnings).toEqual([expect.stringContaining('set resourceUrl')])
  })
})
