import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, ALICE, startHarness, type Harness } from './demo-harness.test-support.js'

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

async function agent(options: { token?: string; sessionId?: string } = {}): Promise<Agent> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` } },
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
  it('exposes the five functions; an anonymous agent sees only login and getPublicData', async () => {
    const anonymous = await agent()
    expect(await anonymous.tools()).toEqual(['getPublicData', 'login'])
    const { tools } = await anonymous.client.listTools()
    const login = tools.find((tool) => tool.name === 'login')
    expect(login?.description).toContain('Authenticate a user')
    expect(login?.inputSchema.required).toEqual(['email', 'password'])

    await anonymous.call('login', ALICE)
    expect(await anonymous.tools()).toEqual(['getProfile', 'getPublicData', 'login', 'logout', 'updatePreferences'])
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
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`)
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
