import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createChannelServer, wireChannel } from '@pikku/channel'
import { connectTestClient } from '@pikku/channel/testing'
import {
  type CredentialInput,
  createMemoryStore,
  createRunner,
  createSessionManager,
  pikkuFunc,
  type SessionAuthenticator,
  type Services,
  silentLogger,
  type UserSession,
} from '@pikku/core'
import { type ApiKeyGrant, createApiKeyAuthenticator, generateApiKey } from '@pikku/credential-testkit/api-key-authenticator'
import { createHTTPHandler, toNodeListener, wireHTTP } from '@pikku/http'
import { createMCPHTTPHandler, JSON_RPC_CODE, wireMCP } from '@pikku/mcp-session'
import { createChannelSessions } from '@pikku/middleware-channel-session'
import { createAuthenticatorMiddleware } from '@pikku/middleware-http-session'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Issue 16, point 2: one SessionAuthenticator, written once, is the credential check of an HTTP
// route, a WebSocket upgrade and an MCP request. The same key in the same header works on all
// three, and the same instance answers each time.

const SERVICE_KEY = generateApiKey()
const STORED_KEY = generateApiKey()
const UNKNOWN_KEY = generateApiKey()
const REPORTING_BOT: UserSession = { userId: 'u-reporting-bot', email: 'reports@example.com', role: 'user', permissions: [] }
const ALICE: UserSession = { userId: 'u-alice', email: 'alice@example.com', role: 'user', permissions: [] }

const whoAmI = pikkuFunc<void, { userId: string }>({
  func: async (_services, _data, { session }) => ({ userId: (await session.get()).userId }),
})

interface Running {
  readonly httpUrl: string
  readonly wsUrl: string
  readonly mcpUrl: string
  /** Which protocol's input each call of the one authenticator saw: a header set or a bare token. */
  readonly seen: ('headers' | 'token')[]
  close(): Promise<void>
}

async function start(): Promise<Running> {
  const store = createMemoryStore({ sweepInterval: 0 })
  const sessions = createSessionManager({ store, idleTimeout: 3_600_000, absoluteTimeout: 8 * 3_600_000 })
  const login = sessions.createState()
  await login.set(ALICE, { login: true })
  await sessions.commit(login)
  const apiKeys = createApiKeyAuthenticator({
    keys: new Map<string, ApiKeyGrant>([
      [SERVICE_KEY, { session: REPORTING_BOT }],
      [STORED_KEY, { sessionId: login.sessionId! }],
    ]),
    sessions,
  })
  const seen: ('headers' | 'token')[] = []
  const authenticator: SessionAuthenticator = {
    cookieNames: apiKeys.cookieNames,
    authenticate(input: CredentialInput) {
      seen.push(input.token === undefined ? 'headers' : 'token')
      return apiKeys.authenticate(input)
    },
  }
  // whoAmI uses no service: the demo's registered services are not needed here.
  const runner = createRunner({ services: {} as Services, logger: silentLogger })

  const http = toNodeListener(
    createHTTPHandler({
      runner,
      routes: [wireHTTP({ method: 'GET', route: '/whoami', func: whoAmI })],
      middleware: [createAuthenticatorMiddleware(authenticator, { sessions, challenge: 'ApiKey' })],
    }),
  )
  const mcp = createMCPHTTPHandler({
    mcp: wireMCP({ tools: { whoAmI }, name: 'api-key-test', version: '0.0.0' }),
    runner,
    sessions,
    authenticator,
    logger: silentLogger,
    session: { sweepInterval: 0 },
  })
  const channelSessions = createChannelSessions({ sessions, authenticator })
  const channels = createChannelServer({ runner, channels: [wireChannel({ route: '/ws', functions: { whoAmI }, session: channelSessions })], heartbeatInterval: 0 })

  const server: Server = createServer((req, res) => {
    void mcp.handle(req, res).then((handled) => {
      if (!handled) http(req, res)
    })
  })
  const detach = channels.attach(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    httpUrl: `http://${base}/whoami`,
    wsUrl: `ws://${base}/ws`,
    mcpUrl: `http://${base}/mcp`,
    seen,
    async close() {
      detach()
      await channels.close({ timeout: 500 })
      channelSessions.close()
      await mcp.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

async function overHTTP(app: Running, key: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(app.httpUrl, { headers: { 'x-api-key': key } })
  return { status: response.status, body: await response.json() }
}

async function overWebSocket(app: Running, key: string): Promise<unknown> {
  const client = await connectTestClient(app.wsUrl, { headers: { 'x-api-key': key } })
  try {
    return (await client.call('whoAmI')).result
  } finally {
    await client.close()
  }
}

async function overMCP(app: Running, key: string): Promise<unknown> {
  const client = new Client({ name: 'api-key-agent', version: '0.0.1' })
  await client.connect(new StreamableHTTPClientTransport(new URL(app.mcpUrl), { requestInit: { headers: { 'x-api-key': key } } }))
  try {
    return (await client.callTool({ name: 'whoAmI', arguments: {} })).structuredContent
  } finally {
    await client.close()
  }
}

describe('one API-key authenticator on HTTP, WebSocket and MCP', () => {
  let app: Running
  beforeAll(async () => {
    app = await start()
  })
  afterAll(async () => {
    await app.close()
  })

  it('a service-account key (a transient session) is the same user on an HTTP route, a WebSocket upgrade and an MCP request', async () => {
    const before = app.seen.length
    expect(await overHTTP(app, SERVICE_KEY)).toEqual({ status: 200, body: { userId: 'u-reporting-bot' } })
    expect(await overWebSocket(app, SERVICE_KEY)).toEqual({ userId: 'u-reporting-bot' })
    expect(await overMCP(app, SERVICE_KEY)).toEqual({ userId: 'u-reporting-bot' })
    // Every protocol handed the one authenticator the request's headers.
    expect(app.seen.slice(before)).not.toContain('token')
    expect(app.seen.length - before).toBeGreaterThanOrEqual(3)
  })

  it('a key bound to a stored session acts as that session’s user on all three protocols', async () => {
    expect(await overHTTP(app, STORED_KEY)).toEqual({ status: 200, body: { userId: 'u-alice' } })
    expect(await overWebSocket(app, STORED_KEY)).toEqual({ userId: 'u-alice' })
    expect(await overMCP(app, STORED_KEY)).toEqual({ userId: 'u-alice' })
  })

  it('an unknown key gets no session on any of the three: 401 on HTTP, an anonymous socket whose call is UNAUTHORIZED, a refused MCP request', async () => {
    expect((await overHTTP(app, UNKNOWN_KEY)).status).toBe(401)
    const socket = await connectTestClient(app.wsUrl, { headers: { 'x-api-key': UNKNOWN_KEY } })
    try {
      expect((await socket.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    } finally {
      await socket.close()
    }
    await expect(overMCP(app, UNKNOWN_KEY)).rejects.toThrow(String(JSON_RPC_CODE.UNAUTHORIZED))
  })
})
