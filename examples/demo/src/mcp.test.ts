import { JSON_RPC_CODE } from '@pikku/mcp-session'
import { request } from 'node:http'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { type CallToolResult, McpError } from '@modelcontextprotocol/sdk/types.js'
import { createMemoryStore, type SessionStore } from '@pikku/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, ALICE, startHarness, type Harness } from './demo-harness.test-support.js'
import type { UserSession } from './types.js'

// The demo's MCP endpoint with the SDK's own client, on the same server and store as HTTP.

let harness: Harness
let mcpUrl: string
const clients: Client[] = []

beforeAll(async () => {
  harness = await startHarness()
  mcpUrl = `${harness.demo.url}/mcp`
})

afterAll(async () => {
  await harness.close()
})

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close().catch(() => undefined)
})

interface Agent {
  readonly client: Client
  readonly transport: StreamableHTTPClientTransport
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>
  tools(): Promise<string[]>
}

async function agent(options: { token?: string; sessionId?: string; origin?: string; url?: string } = {}): Promise<Agent> {
  const headers: Record<string, string> = {}
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`
  if (options.origin !== undefined) headers['origin'] = options.origin
  const transport = new StreamableHTTPClientTransport(new URL(options.url ?? mcpUrl), {
    requestInit: { headers },
    ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
  })
  const client = new Client({ name: 'demo-test-agent', version: '0.0.1' })
  await client.connect(transport)
  clients.push(client)
  return {
    client,
    transport,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    tools: async () => (await client.listTools()).tools.map((tool) => tool.name).sort(),
  }
}

async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise
  } catch (error) {
    if (error instanceof StreamableHTTPError) return error.code
    throw error
  }
  return 200
}

function tokenOf(result: CallToolResult): string {
  return (result.structuredContent as { token: string }).token
}

describe('the demo over MCP (Streamable HTTP at /mcp)', () => {
  it('exposes the functions; an anonymous agent sees only login and getPublicData, a user not the admin tool', async () => {
    const anonymous = await agent()
    expect(await anonymous.tools()).toEqual(['getPublicData', 'login'])
    const { tools } = await anonymous.client.listTools()
    const login = tools.find((tool) => tool.name === 'login')
    expect(login?.description).toContain('Authenticate a user')
    expect(login?.inputSchema.required).toEqual(['email', 'password'])

    await anonymous.call('login', ALICE)
    expect(await anonymous.tools()).toEqual(['getProfile', 'getPublicData', 'listSessions', 'login', 'logout', 'revokeOtherSessions', 'revokeSession', 'updatePreferences'])
    const admin = await agent()
    await admin.call('login', ADMIN)
    expect(await admin.tools()).toContain('revokeUserSessions')
  })

  it('logs in with the login tool, then reads and changes the profile in the same MCP session; HTTP sees the change', async () => {
    const alice = await agent()
    const login = await alice.call('login', ALICE)
    expect(login.structuredContent).toMatchObject({ user: { id: 'user-alice', email: ALICE.email } })
    expect((await alice.call('getProfile')).structuredContent).toMatchObject({ id: 'user-alice', email: ALICE.email })
    const update = await alice.call('updatePreferences', { theme: 'light', language: 'fr' })
    expect(update.isError).toBeUndefined()

    // The same user session over HTTP, with the bearer token the login tool returned.
    const browser = harness.client()
    const profile = await browser.request('GET', '/profile', { headers: { authorization: `Bearer ${tokenOf(login)}` } })
    expect(profile.status).toBe(200)
    expect(profile.body.preferences).toMatchObject({ theme: 'light', language: 'fr' })
  })

  it('accepts the bearer token from an HTTP login on every MCP request', async () => {
    const browser = harness.client()
    const login = await browser.request('POST', '/login', { body: ADMIN })
    const admin = await agent({ token: login.body.token })
    expect((await admin.call('getProfile')).structuredContent).toMatchObject({ id: 'user-admin', role: 'admin' })
  })

  it('answers getProfile without credentials with 401 naming the protected-resource metadata', async () => {
    const anonymous = await agent()
    expect(await statusOf(anonymous.call('getProfile'))).toBe(401)
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': anonymous.transport.sessionId!,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'getProfile', arguments: {} } }),
    })
    expect(response.status).toBe(401)
    const metadataUrl = `${harness.demo.url}/.well-known/oauth-protected-resource`
    // The demo is its own authorization server: the challenge names the scope clients should ask for.
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}", scope="mcp:tools"`)
    const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>
    expect(metadata).toMatchObject({ resource: mcpUrl, bearer_methods_supported: ['header'] })
  })

  it('keeps two agents of different users apart', async () => {
    const alice = await agent()
    const admin = await agent()
    await alice.call('login', ALICE)
    await admin.call('login', ADMIN)
    expect((await alice.call('getProfile')).structuredContent).toMatchObject({ id: 'user-alice' })
    expect((await admin.call('getProfile')).structuredContent).toMatchObject({ id: 'user-admin' })
  })

  it('logout ends the session for MCP and HTTP alike', async () => {
    const alice = await agent()
    const token = tokenOf(await alice.call('login', ALICE))
    expect((await alice.call('logout')).structuredContent).toEqual({ success: true })
    expect(await statusOf(alice.call('getProfile'))).toBe(401)
    const browser = harness.client()
    expect((await browser.request('GET', '/profile', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401)
  })

  it('DELETE /mcp ends the MCP session and its user session; the id then gets 404', async () => {
    const alice = await agent()
    const token = tokenOf(await alice.call('login', ALICE))
    const sessionId = alice.transport.sessionId!
    await alice.transport.terminateSession()
    expect(await statusOf(agent({ sessionId }).then((again) => again.call('getPublicData')))).toBe(404)
    const browser = harness.client()
    expect((await browser.request('GET', '/profile', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401)
  })

  it('answers a malformed body with a JSON-RPC parse error, not a 500', async () => {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc": "2.0", "id": 1, "method": ',
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } })
  })
})

/** A raw POST to /mcp, for what the SDK client would never send. */
function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', ...headers },
    body: JSON.stringify(body),
  })
}


describe('an MCP session is its owner’s alone', () => {
  it('a request with only the Mcp-Session-Id of a session started with a bearer token can neither use, log into nor end it', async () => {
    const login = await harness.client().request('POST', '/login', { body: ALICE })
    const alice = await agent({ token: login.body.token })
    const sessionId = alice.transport.sessionId!
    const list = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': sessionId })
    expect(list.status).toBe(401)
    expect(list.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${harness.demo.url}/.well-known/oauth-protected-resource", scope="mcp:tools"`)
    const hijack = await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'login', arguments: ADMIN } }, { 'mcp-session-id': sessionId })
    expect(hijack.status).toBe(401)
    expect((await fetch(mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } })).status).toBe(401)
    expect((await alice.call('getProfile')).structuredContent).toMatchObject({ id: 'user-alice' })
  })

  it('an in-band login as another user inside a bound MCP session is refused; a new MCP session is needed', async () => {
    const alice = await agent()
    await alice.call('login', ALICE)
    const refused = await alice.call('login', ADMIN).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(McpError)
    expect((refused as McpError).code).toBe(JSON_RPC_CODE.FORBIDDEN)
    expect((await alice.call('getProfile')).structuredContent).toMatchObject({ id: 'user-alice' })
    const admin = await agent()
    await admin.call('login', ADMIN)
    expect((await admin.call('getProfile')).structuredContent).toMatchObject({ id: 'user-admin' })
  })

  it('after the in-band login is revoked elsewhere, the Mcp-Session-Id alone gets 401', async () => {
    const alice = await agent()
    const token = tokenOf(await alice.call('login', ALICE))
    // Log out over HTTP with the same session's bearer token.
    expect((await harness.client().request('POST', '/logout', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    expect(await statusOf(alice.call('getPublicData'))).toBe(401)
    expect(await statusOf(alice.transport.terminateSession())).toBe(401)
  })
})

describe('the MCP endpoint’s origin rule', () => {
  it('serves the SDK client from the demo’s own origin and from any localhost page, and refuses other sites', async () => {
    const port = new URL(harness.demo.url).port
    for (const origin of [harness.demo.url, `http://localhost:${port}`, 'http://localhost:5173']) {
      const local = await agent({ origin })
      expect(await local.tools()).toContain('login')
    }
    expect(await statusOf(agent({ origin: 'https://evil.example' }))).toBe(403)
  })

  it('refuses a rebinding Host with 403, and publishes no metadata for it', async () => {
    const status = (path: string, host: string): Promise<number | undefined> =>
      new Promise((resolve, reject) => {
        const req = request(`${harness.demo.url}${path}`, { method: path === '/mcp' ? 'POST' : 'GET', headers: { host, 'content-type': 'application/json' } }, (res) => {
          res.resume()
          resolve(res.statusCode)
        })
        req.on('error', reject)
        req.end(path === '/mcp' ? JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }) : undefined)
      })
    expect(await status('/mcp', 'evil.example')).toBe(403)
    expect(await status('/.well-known/oauth-protected-resource', 'evil.example')).toBe(403)
    expect(await status('/.well-known/oauth-protected-resource', `localhost:${new URL(harness.demo.url).port}`)).toBe(200)
  })
})

describe('anonymous MCP sessions', () => {
  it('write nothing to the session store until a login binds them', async () => {
    const writes: string[] = []
    const inner = createMemoryStore<UserSession>({ sweepInterval: 0 })
    const store: SessionStore<UserSession> = {
      ...inner,
      set: (record) => {
        writes.push(record.id)
        return inner.set(record)
      },
      update: (id, version, change) => {
        writes.push(id)
        return inner.update(id, version, change)
      },
    }
    const own = await startHarness({ store })
    try {
      const url = `${own.demo.url}/mcp`
      const agents: Agent[] = []
      for (let i = 0; i < 20; i++) agents.push(await agent({ url }))
      for (const anonymous of agents) expect(await anonymous.tools()).toEqual(['getPublicData', 'login'])
      expect(writes).toEqual([])
      await agents[0]!.call('login', ALICE)
      // The user session and the MCP session it is now bound to.
      expect(writes.some((id) => id.startsWith('mcp:'))).toBe(true)
    } finally {
      await own.close()
    }
  })
})
