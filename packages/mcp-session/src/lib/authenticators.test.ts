import { createInterface } from 'node:readline'
import { PassThrough } from 'node:stream'
import { createMemoryStore, firstAuthenticated, type PikkuMiddleware, type SessionAuthenticator } from '@pikku/core'
import { describe, expect, it } from 'vitest'
import { mcpSessionStorageId } from '../index.js'
import { JSON_RPC_CODE } from './json-rpc-codes.js'
import { serveMCPStdio } from './stdio-server.js'
import {
  ALICE,
  apiKeyAuthenticator,
  CI_KEY,
  OPS_KEY,
  UNKNOWN_KEY,
  createTestApp,
  httpStatusOf,
  initializeBody,
  perTest,
  rawPost,
  type TestApp,
  tokenOf,
} from './test-app.test-support.js'

// The MCP endpoint and the stdio server take core's SessionAuthenticator: any credential kind an
// authenticator reads works, stored or transient (an API key, which no store backs).

const { setup, client } = perTest()

const LIST = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' })

/** The test app with a middleware that records `wire.mcp.credential` of every call. */
function recordingApp(): { app: TestApp; credentials: unknown[] } {
  const credentials: unknown[] = []
  const record: PikkuMiddleware = async (_services, wire, next) => {
    credentials.push(wire.mcp?.credential)
    await next()
  }
  const clock = createTestApp().clock
  return { app: createTestApp({ clock, store: createMemoryStore({ clock: clock.now, sweepInterval: 0 }), middleware: [record] }), credentials }
}

/** API keys first, then the session manager's own tokens (the default), as an app combines them. */
function keysThenTokens(app: TestApp): SessionAuthenticator {
  const sessionTokens: SessionAuthenticator = {
    async authenticate(input) {
      const authorization = input.header?.('authorization')
      const token = input.token ?? (authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined)
      if (token === undefined) return { outcome: 'none' }
      const record = await app.sessions.loadByToken(token)
      return record === undefined ? { outcome: 'refused', credential: 'bearer', reason: 'invalid' } : { outcome: 'stored', credential: 'bearer', record }
    },
  }
  return firstAuthenticated(apiKeyAuthenticator(), sessionTokens)
}

describe('an API key (a transient session) over MCP HTTP', () => {
  it('acts as the key’s user on every request, stores no user session, and says so in wire.mcp.credential', async () => {
    const { app, credentials } = recordingApp()
    const { server } = await setup({ authenticator: apiKeyAuthenticator() }, app)
    const agent = await client(server.mcpUrl, { headers: { 'x-api-key': CI_KEY } })
    expect(await agent.toolNames()).toContain('getProfile')
    expect((await agent.call('getProfile')).structuredContent).toEqual({ userId: 'u-ci-bot', name: 'CI bot', role: 'user' })
    expect(credentials).toEqual(['api-key'])
    // Nothing of the key's session is in the store: no user session to list or revoke.
    expect(await app.sessions.listUserSessions('u-ci-bot')).toEqual([])
  })

  it('owns the MCP session it initialized: without the key 401, with another user’s key 404', async () => {
    const { app } = recordingApp()
    const { server } = await setup({ authenticator: apiKeyAuthenticator() }, app)
    const agent = await client(server.mcpUrl, { headers: { 'x-api-key': CI_KEY } })
    const sessionId = agent.transport.sessionId!
    // The owner is compared by user id: the MCP session is stored, as any owned one.
    expect((await app.store.get(mcpSessionStorageId(sessionId)))?.data).toMatchObject({ boundUserId: 'u-ci-bot', ownedVia: 'bearer' })
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': sessionId })).status).toBe(401)
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': sessionId, 'x-api-key': OPS_KEY })).status).toBe(404)
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': sessionId, 'x-api-key': CI_KEY })).status).toBe(200)
  })

  it('answers an unknown key with 401 invalid_token, even for a sessionless tool', async () => {
    const { app } = recordingApp()
    const { server } = await setup({ authenticator: apiKeyAuthenticator() }, app)
    const response = await rawPost(server.mcpUrl, initializeBody(), { 'x-api-key': UNKNOWN_KEY })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
    expect(await response.json()).toMatchObject({ error: { code: JSON_RPC_CODE.UNAUTHORIZED } })
  })

  it('combines with stored credentials through firstAuthenticated: a bearer token still works, and an in-band login is in-band', async () => {
    const { app, credentials } = recordingApp()
    const { server } = await setup({ authenticator: keysThenTokens(app) }, app)
    const agent = await client(server.mcpUrl)
    const token = tokenOf(await agent.call('login', ALICE))
    await agent.call('getProfile')
    const bearer = await client(server.mcpUrl, { token })
    expect((await bearer.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    expect(credentials).toEqual([undefined, 'in-band', 'bearer'])
    expect(await httpStatusOf(client(server.mcpUrl, { token: 'x'.repeat(43) }))).toBe(401)
  })

  it('is refused at creation when both authenticator and the deprecated authenticateToken are given, or when it is not one', async () => {
    const { app } = recordingApp()
    const base = { mcp: app.mcp, runner: app.runner, sessions: app.sessions }
    const { createMCPHTTPHandler } = await import('./http-handler.js')
    expect(() => createMCPHTTPHandler({ ...base, authenticator: apiKeyAuthenticator(), authenticateToken: async () => undefined })).toThrow(
      'pass authenticator or authenticateToken, not both',
    )
    expect(() => createMCPHTTPHandler({ ...base, authenticator: (async () => undefined) as never })).toThrow('authenticator must be a SessionAuthenticator')
  })
})

describe('an API key (a transient session) over MCP stdio', () => {
  it('is given to the authenticator as { token }: the agent acts as the key’s user, marked api-key', async () => {
    const { app, credentials } = recordingApp()
    const stdin = new PassThrough()
    const stdout = new PassThrough()
    const served = await serveMCPStdio({ mcp: app.mcp, runner: app.runner, sessions: app.sessions, authenticator: keysThenTokens(app), token: OPS_KEY, stdin, stdout })
    const answers = new Map<number, { result?: { structuredContent?: unknown }; error?: { code: number } }>()
    const lines = createInterface({ input: stdout })
    lines.on('line', (line) => {
      const message = JSON.parse(line) as { id: number; result?: { structuredContent?: unknown }; error?: { code: number } }
      answers.set(message.id, message)
    })
    stdin.write(`${initializeBody()}\n`)
    stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`)
    stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'adminReport', arguments: {} } })}\n`)
    await expect.poll(() => answers.size).toBe(2)
    expect(answers.get(2)?.result?.structuredContent).toEqual({ secret: 42 })
    expect(credentials).toEqual(['api-key'])
    expect(await app.sessions.listUserSessions('u-ops-bot')).toEqual([])
    lines.close()
    await served.close()
  })
})
