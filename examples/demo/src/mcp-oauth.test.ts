import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { type CallToolResult, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE, startHarness, type Harness } from './demo-harness.test-support.js'
import { browser, memoryProvider, REDIRECT } from './mcp-oauth.test-support.js'

// An MCP client that knows nothing but the demo's /mcp URL signs alice in by itself: discovery,
// dynamic registration, the demo's login page, consent, token exchange, then getProfile as alice.

let harness: Harness

beforeAll(async () => {
  harness = await startHarness()
})

afterAll(async () => {
  await harness.close()
})

describe('MCP on the demo with OAuth', () => {
  it('a client that knows only /mcp signs alice in through the login and consent pages and calls getProfile as her', async () => {
    const origin = harness.demo.url
    const provider = memoryProvider()
    const first = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider })
    const unauthenticated = new Client({ name: 'demo-oauth-agent', version: '0.0.1' })
    // The SDK's client: 401 → protected-resource metadata → the demo's authorization server → registration.
    await unauthenticated.connect(first)
    await expect(unauthenticated.callTool({ name: 'getProfile', arguments: {} })).rejects.toBeInstanceOf(UnauthorizedError)
    const authorizationUrl = provider.authorizationUrl as URL
    expect(authorizationUrl.origin).toBe(origin)

    const user = browser(origin)
    // Not signed in: the authorization endpoint sends the browser to the demo's login page.
    const toLogin = await user.get(authorizationUrl.href)
    const loginPage = new URL(toLogin.headers.get('location') as string, origin)
    expect(loginPage.pathname).toBe('/')
    const returnTo = loginPage.searchParams.get('return_to') as string
    expect((await user.post(`${origin}/login`, JSON.stringify(ALICE), 'application/json')).status).toBe(200)
    // The login page goes back to return_to: the consent page.
    const consent = await user.get(`${origin}${returnTo}`)
    const html = await consent.text()
    expect(html).toContain('Demo Test Agent')
    expect(html).toContain('<button type="submit" name="decision" value="allow">')
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string
    const approved = await user.post(`${origin}${returnTo}`, new URLSearchParams({ csrf, decision: 'allow' }).toString(), 'application/x-www-form-urlencoded')
    const redirect = new URL(approved.headers.get('location') as string)
    expect(redirect.origin + redirect.pathname).toBe(REDIRECT)
    expect(redirect.searchParams.get('iss')).toBe(origin)
    expect(redirect.searchParams.get('error')).toBeNull()
    await first.finishAuth(redirect.searchParams.get('code') as string)

    const client = new Client({ name: 'demo-oauth-agent', version: '0.0.1' })
    const heard: string[] = []
    client.setNotificationHandler(ToolListChangedNotificationSchema, async (notification) => {
      heard.push(notification.method)
    })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider }))
    const profile = (await client.callTool({ name: 'getProfile', arguments: {} })) as CallToolResult
    expect(profile.isError).not.toBe(true)
    expect(JSON.stringify(profile.structuredContent ?? profile.content)).toContain('alice@example.com')

    // The grant is one of alice's sessions: revoking her sessions ends it.
    const sessions = await harness.app.sessions.listUserSessions('user-alice')
    expect(sessions.length).toBeGreaterThanOrEqual(2)
    await harness.app.sessions.revokeUser('user-alice')
    // The client's standalone stream (opened by the SDK on its own) hears that its tools changed.
    await expect.poll(() => heard).toEqual(['notifications/tools/list_changed'])
    const after = await fetch(`${origin}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${provider.tokens()?.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } }),
    })
    expect(after.status).toBe(401)
    expect(after.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource", scope="mcp:tools", error="invalid_token"`,
    )
    const metadata = (await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>
    expect(metadata).toMatchObject({ resource: `${origin}/mcp`, authorization_servers: [origin], scopes_supported: ['mcp:tools'] })
    await client.close()
  })
})
