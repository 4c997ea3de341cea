import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestApp, TestBrowser, TestClientProvider, type TestApp } from './test-app.test-support.js'

let app: TestApp | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const REDIRECT = 'http://127.0.0.1:53682/callback'

/** Connects the SDK's client; on 401 runs discovery, registration and the browser step, then connects again. */
async function connectWithOAuth(target: TestApp, provider: TestClientProvider, browser: TestBrowser, url = target.mcpUrl): Promise<Client> {
  const first = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider })
  const client = new Client({ name: 'test-client', version: '1.0.0' })
  await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError)
  const authorizationUrl = provider.lastAuthorizationUrl
  if (authorizationUrl === undefined) throw new Error('the SDK did not start an authorization')
  const redirect = await browser.consent(authorizationUrl.href)
  expect(redirect.origin + redirect.pathname).toBe(REDIRECT)
  expect(redirect.searchParams.get('iss')).toBe(target.url)
  await first.finishAuth(redirect.searchParams.get('code') as string)
  const connected = new Client({ name: 'test-client', version: '1.0.0' })
  await connected.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }))
  return connected
}

async function whoami(client: Client): Promise<string> {
  const result = await client.callTool({ name: 'whoami', arguments: {} })
  return (result.content as { text: string }[])[0]?.text ?? ''
}

describe('an MCP client that knows only the URL', () => {
  it('registers itself, gets the user consent and calls a tool as alice, in a session of her own', async () => {
    app = await startTestApp()
    const browser = new TestBrowser(app.url)
    browser.signIn(await app.login())
    const provider = new TestClientProvider(REDIRECT)
    const client = await connectWithOAuth(app, provider, browser)
    const [email, sessionId] = (await whoami(client)).split(' ')
    expect(email).toBe('alice@example.com')
    const listed = await app.sessions.listUserSessions('u-alice')
    // The browser session and the grant's session: two sessions of alice, the grant one listed like any other.
    expect(listed.map((record) => record.id)).toContain(sessionId)
    expect(listed).toHaveLength(2)
    expect(await app.oauth.clientOfSession(sessionId as string)).toEqual({ clientId: provider.clientInformation()?.client_id, clientName: 'Test MCP Client' })
    await client.close()
  })
})
