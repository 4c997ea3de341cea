import { JSON_RPC_CODE } from './json-rpc-codes.js'
import { request } from 'node:http'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { createSessionManager, pikkuPermission, type SessionStore } from '@pikku/core'
import { createTestClock } from '@pikku/core/testing'
import { createHTTPSessions } from '@pikku/middleware-http-session'
import { describe, expect, it } from 'vitest'
import { createMCPHTTPHandler, mcpSessionStorageId } from '../index.js'
import {
  ALICE,
  BOB,
  createTestApp,
  httpStatusOf,
  perTest,
  rawPost,
  ROOT,
  rpcErrorOf,
  startHTTPServer,
  startTestServer,
  tokenOf,
} from './test-app.test-support.js'

const { setup, client, defer } = perTest()

const ANONYMOUS_TOOLS = ['broken', 'getPublicData', 'login', 'missing', 'shout', 'slow']

describe('tools from functions', () => {
  it('describes each tool with the function docs and its input schema as JSON Schema', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const { tools } = await agent.client.listTools()
    const login = tools.find((tool) => tool.name === 'login')
    expect(login?.title).toBe('Authenticate a user')
    expect(login?.description).toContain('Starts a session for an email and password.')
    expect(login?.inputSchema.type).toBe('object')
    expect(login?.inputSchema.required).toEqual(['email', 'password'])
    expect(login?.inputSchema.properties).toHaveProperty('email')
    // A function whose input is a string is offered as { input } and unwrapped for the call.
    const shout = tools.find((tool) => tool.name === 'shout')
    expect(shout?.inputSchema.properties).toEqual({ input: expect.objectContaining({ type: 'string' }) })
    expect(await agent.call('shout', { input: 'hi' })).toMatchObject({ content: [{ type: 'text', text: 'HI' }] })
  })

  it('announces the server name and version given to wireMCP', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    expect(agent.client.getServerVersion()).toMatchObject({ name: 'pikku-test', version: '1.2.3' })
  })

  it('returns object results as structured content and as JSON text', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const result = await agent.call('getPublicData')
    expect(result.structuredContent).toEqual({ greeting: 'hello stranger' })
    expect(JSON.parse((result.content[0] as { text: string }).text)).toEqual({ greeting: 'hello stranger' })
  })

  it('answers arguments the function schema refuses with -32602 Invalid params and the message an HTTP 400 carries', async () => {
    const { server, app } = await setup()
    const agent = await client(server.mcpUrl)
    const error = await rpcErrorOf(agent.call('login', { email: 'not-an-email', password: 'x' }))
    expect(error.code).toBe(-32602)
    // The same function over HTTP, with the same input: the same message and issues.
    const http = await startHTTPServer(app)
    defer(() => http.close())
    const response = await fetch(`${http.url}/rpc/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'not-an-email', password: 'x' }) })
    expect(response.status).toBe(400)
    const { error: httpError } = (await response.json()) as { error: { message: string; details: unknown } }
    expect(httpError.message).toMatch(/^Invalid input: email: /)
    expect(error.message).toBe(`MCP error -32602: ${httpError.message}`)
    expect(error.data).toEqual({ code: 'BAD_REQUEST', message: httpError.message, details: httpError.details })
  })

  it('reports a wrong password as a JSON-RPC unauthorized error, never as -32603', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const error = await rpcErrorOf(agent.call('login', { ...ALICE, password: 'wrong' }))
    expect(error.code).toBe(JSON_RPC_CODE.UNAUTHORIZED)
    expect(error.code).not.toBe(-32603)
    expect(error.data).toMatchObject({ code: 'UNAUTHORIZED', message: 'Invalid credentials' })
  })

  it('hides the detail of an unexpected failure behind an error id', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const result = await agent.call('broken')
    expect(result.isError).toBe(true)
    expect(JSON.stringify(result)).not.toContain('hunter2')
    expect(result.structuredContent).toMatchObject({ error: { code: 'INTERNAL', id: expect.any(String) } })
    const missing = await agent.call('missing')
    expect(missing).toMatchObject({ isError: true, structuredContent: { error: { code: 'NOT_FOUND', message: 'No such report' } } })
  })

  it('answers an unknown tool with invalid params', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    expect((await rpcErrorOf(agent.call('nope'))).code).toBe(-32602)
  })
})

describe('who the caller is', () => {
  it('lists only sessionless tools to an anonymous caller, and more once logged in', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    expect(await agent.toolNames()).toEqual(ANONYMOUS_TOOLS)
    await agent.call('login', ALICE)
    expect(await agent.toolNames()).toEqual([...ANONYMOUS_TOOLS, 'getProfile', 'logout', 'readDocument'].sort())
  })

  it('authenticates later calls in the MCP session after the login tool', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const login = await agent.call('login', ALICE)
    expect(login.structuredContent).toMatchObject({ user: { id: 'u-alice' } })
    expect((await agent.call('getProfile')).structuredContent).toEqual({ userId: 'u-alice', name: 'Alice', role: 'user' })
    expect((await agent.call('getPublicData')).structuredContent).toEqual({ greeting: 'hello Alice' })
  })

  it('accepts a bearer token from login on every request, without any in-band login', async () => {
    const { server } = await setup()
    const first = await client(server.mcpUrl)
    const token = tokenOf(await first.call('login', BOB))
    const agent = await client(server.mcpUrl, { token })
    expect(await agent.toolNames()).toContain('getProfile')
    expect((await agent.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-bob' })
  })

  it('answers a tool that needs a session, called anonymously, with 401 and the protected-resource metadata link', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const sessionId = agent.transport.sessionId!
    expect(await httpStatusOf(agent.call('getProfile'))).toBe(401)

    const response = await rawPost(
      server.mcpUrl,
      JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'getProfile', arguments: {} } }),
      { 'mcp-session-id': sessionId },
    )
    expect(response.status).toBe(401)
    const metadataUrl = `${server.url}/.well-known/oauth-protected-resource`
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`)
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: JSON_RPC_CODE.UNAUTHORIZED } })

    const metadata = await fetch(metadataUrl)
    expect(metadata.status).toBe(200)
    expect(await metadata.json()).toEqual({
      resource: server.mcpUrl,
      authorization_servers: [],
      bearer_methods_supported: ['header'],
      resource_name: 'pikku-test',
    })
    // The path-suffixed location of RFC 9728 serves the same document.
    expect((await fetch(`${metadataUrl}/mcp`)).status).toBe(200)
  })

  it('answers an invalid bearer token with 401 invalid_token, even for a sessionless tool', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const response = await rawPost(
      server.mcpUrl,
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      { 'mcp-session-id': agent.transport.sessionId!, authorization: 'Bearer not-a-real-token' },
    )
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('never identifies the caller from the Mcp-Session-Id when in-band login is off', async () => {
    const { server } = await setup({ session: { inBandLogin: false } })
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    expect(await httpStatusOf(agent.call('getProfile'))).toBe(401)
  })

  it('keeps two MCP sessions of different users apart', async () => {
    const { server } = await setup()
    const alice = await client(server.mcpUrl)
    const bob = await client(server.mcpUrl)
    const bobToken = tokenOf(await bob.call('login', BOB))
    await alice.call('login', ALICE)
    expect((await alice.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    expect((await bob.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-bob' })

    // Bob's own credentials with Alice's MCP session id reach nothing of hers.
    const response = await rawPost(
      server.mcpUrl,
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'getProfile', arguments: {} } }),
      { 'mcp-session-id': alice.transport.sessionId!, authorization: `Bearer ${bobToken}` },
    )
    expect(response.status).toBe(404)
    const deleteAttempt = await fetch(server.mcpUrl, {
      method: 'DELETE',
      headers: { 'mcp-session-id': alice.transport.sessionId!, authorization: `Bearer ${bobToken}` },
    })
    expect(deleteAttempt.status).toBe(404)
    expect((await alice.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
  })

  it("an MCP session started with a bearer token belongs to its user: another user's token gets 404", async () => {
    const { server } = await setup()
    const aliceToken = tokenOf(await (await client(server.mcpUrl)).call('login', ALICE))
    const bobToken = tokenOf(await (await client(server.mcpUrl)).call('login', BOB))
    const alice = await client(server.mcpUrl, { token: aliceToken })
    expect(await httpStatusOf(client(server.mcpUrl, { token: bobToken, sessionId: alice.transport.sessionId! }).then((bob) => bob.toolNames()))).toBe(404)
    expect((await alice.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
  })

  it('does not accept an MCP session id as a user session token', async () => {
    const { server, app } = await setup()
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    const sessionId = agent.transport.sessionId!
    expect(await app.sessions.loadByToken(sessionId)).toBeUndefined()
    expect(await httpStatusOf(client(server.mcpUrl, { token: sessionId }))).toBe(401)
  })
})

describe('bearer tokens from @pikku/middleware-http-session', () => {
  it('accepts its JWTs through authenticateToken, and logout revokes them', async () => {
    // JWT expiry is checked against real time, so the sessions use a clock starting now.
    const clock = createTestClock(Date.now())
    let httpSessions: ReturnType<typeof createHTTPSessions> | undefined
    const app = createTestApp({ clock, issueToken: (session) => httpSessions!.jwtFor(session).sign() })
    httpSessions = createHTTPSessions({ sessions: app.sessions, cookie: false, csrf: false, jwt: { secrets: ['a-test-secret-of-at-least-32-bytes!!'] } })
    const server = await startTestServer(app, { authenticateToken: (token) => httpSessions!.authenticateToken(token) })
    defer(() => server.close())

    const first = await client(server.mcpUrl)
    const jwt = tokenOf(await first.call('login', ALICE))
    expect(jwt.split('.')).toHaveLength(3)
    const agent = await client(server.mcpUrl, { token: jwt })
    expect((await agent.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    await agent.call('logout')
    expect(await httpStatusOf(client(server.mcpUrl, { token: jwt }))).toBe(401)
  })
})

describe('permissions', () => {
  it('hides a tool whose guard fails for the caller and refuses a call to it with 403-class JSON-RPC error', async () => {
    const { server } = await setup()
    const alice = await client(server.mcpUrl)
    await alice.call('login', ALICE)
    expect(await alice.toolNames()).not.toContain('adminReport')
    const error = await rpcErrorOf(alice.call('adminReport'))
    expect(error.code).toBe(JSON_RPC_CODE.FORBIDDEN)

    const root = await client(server.mcpUrl)
    await root.call('login', ROOT)
    expect(await root.toolNames()).toContain('adminReport')
    expect((await root.call('adminReport')).structuredContent).toEqual({ secret: 42 })
  })

  it('hides every tool from a caller the global permissions of the runner refuse, and refuses its calls', async () => {
    const notAlice = pikkuPermission(async (_services, _data, wire) => (await wire.session.get())?.userId !== 'u-alice')
    const app = createTestApp({ permissions: notAlice })
    const server = await startTestServer(app)
    defer(() => server.close())
    const alice = await client(server.mcpUrl)
    await alice.call('login', ALICE)
    expect(await alice.toolNames()).toEqual([])
    expect((await rpcErrorOf(alice.call('getProfile'))).code).toBe(JSON_RPC_CODE.FORBIDDEN)
    const root = await client(server.mcpUrl)
    await root.call('login', ROOT)
    expect(await root.toolNames()).toContain('getProfile')
  })

  it('lists a tool whose guard needs the input (data is undefined while listing) and checks the call with the real input', async () => {
    const { server } = await setup()
    const alice = await client(server.mcpUrl)
    await alice.call('login', ALICE)
    expect(await alice.toolNames()).toContain('readDocument')
    expect((await alice.call('readDocument', { ownerId: 'u-alice' })).structuredContent).toMatchObject({ ownerId: 'u-alice' })
    expect((await rpcErrorOf(alice.call('readDocument', { ownerId: 'u-bob' }))).code).toBe(JSON_RPC_CODE.FORBIDDEN)
  })
})

describe('store outages', () => {
  it('answers 503 with the service-unavailable code instead of treating the caller as logged out', async () => {
    const app = createTestApp()
    let failing = false
    const flaky: SessionStore = {
      ...app.store,
      get: (id) => (failing ? Promise.reject(new Error('connection refused')) : app.store.get(id)),
    }
    const server = await startTestServer({ ...app, sessions: createSessionManager({ store: flaky, clock: app.clock.now }) })
    defer(() => server.close())
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    failing = true
    const response = await rawPost(server.mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), {
      'mcp-session-id': agent.transport.sessionId!,
    })
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ error: { code: JSON_RPC_CODE.SERVICE_UNAVAILABLE } })
    failing = false
    expect((await agent.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
  })
})

describe('ending sessions', () => {
  it('logout ends the user session: the MCP session is anonymous again and the token stops working', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const token = tokenOf(await agent.call('login', ALICE))
    expect((await agent.call('logout')).structuredContent).toEqual({ success: true })
    expect(await agent.toolNames()).toEqual(ANONYMOUS_TOOLS)
    expect(await httpStatusOf(agent.call('getProfile'))).toBe(401)
    expect(await httpStatusOf(client(server.mcpUrl, { token }))).toBe(401)
  })

  it('logout with a bearer token revokes that token', async () => {
    const { server } = await setup()
    const first = await client(server.mcpUrl)
    const token = tokenOf(await first.call('login', ALICE))
    const agent = await client(server.mcpUrl, { token })
    await agent.call('logout')
    expect(await httpStatusOf(agent.call('getPublicData'))).toBe(401)
  })

  it('DELETE ends the MCP session and its user session; the id then gets 404', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const token = tokenOf(await agent.call('login', ALICE))
    const sessionId = agent.transport.sessionId!
    await agent.transport.terminateSession()

    const response = await rawPost(server.mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), { 'mcp-session-id': sessionId })
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: { code: JSON_RPC_CODE.NOT_FOUND } })
    expect((await fetch(server.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } })).status).toBe(404)
    // The user session started in it is gone too: its token no longer authenticates.
    expect(await httpStatusOf(client(server.mcpUrl, { token }))).toBe(401)
  })

  it('answers an unknown Mcp-Session-Id with 404 and a missing one with 400', async () => {
    const { server } = await setup()
    const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
    expect((await rawPost(server.mcpUrl, list, { 'mcp-session-id': 'A'.repeat(43) })).status).toBe(404)
    expect((await rawPost(server.mcpUrl, list, { 'mcp-session-id': 'short' })).status).toBe(404)
    const missing = await rawPost(server.mcpUrl, list)
    expect(missing.status).toBe(400)
    expect(await missing.json()).toMatchObject({ error: { code: -32600 } })
  })

  it('an idle MCP session expires: its id gets 404, the sweep closes it and revokes its user session', async () => {
    const { server, app } = await setup({ session: { lifetime: { idleTimeout: 10 * 60_000 } } })
    const agent = await client(server.mcpUrl)
    const token = tokenOf(await agent.call('login', ALICE))
    const storageId = mcpSessionStorageId(agent.transport.sessionId!)
    expect(await app.store.get(storageId)).toBeDefined()

    app.clock.advance(10 * 60_000)
    expect(await server.handler.sweep()).toBe(1)
    expect(await app.store.get(storageId)).toBeUndefined()
    expect(await httpStatusOf(agent.call('getPublicData'))).toBe(404)
    expect(await app.sessions.loadByToken(token)).toBeUndefined()
  })

  it('activity keeps an MCP session alive, renewing the store at most once per renewal interval', async () => {
    const { server, app } = await setup({ session: { lifetime: { idleTimeout: 10 * 60_000, renewalInterval: 60_000 } } })
    const agent = await client(server.mcpUrl)
    // Bound to a user, so kept in the store (an anonymous one lives in memory).
    await agent.call('login', ALICE)
    const storageId = mcpSessionStorageId(agent.transport.sessionId!)
    const created = (await app.store.get(storageId))!.lastActiveAt
    app.clock.advance(30_000)
    await agent.call('getPublicData')
    expect((await app.store.get(storageId))!.lastActiveAt).toBe(created)
    for (let minute = 0; minute < 30; minute++) {
      app.clock.advance(5 * 60_000)
      await agent.call('getPublicData')
    }
    expect(await server.handler.sweep()).toBe(0)
    expect((await app.store.get(storageId))!.lastActiveAt).toBe(app.clock.now())
  })

  it('an MCP session ends at its absolute timeout however busy', async () => {
    const { server, app } = await setup({ session: { lifetime: { idleTimeout: 10 * 60_000, absoluteTimeout: 30 * 60_000 } } })
    const agent = await client(server.mcpUrl)
    for (let step = 0; step < 5; step++) {
      app.clock.advance(5 * 60_000)
      await agent.call('getPublicData')
    }
    app.clock.advance(5 * 60_000)
    expect(await httpStatusOf(agent.call('getPublicData'))).toBe(404)
  })

  it('eviction closes the transports of requests still in flight', async () => {
    const { server, app } = await setup({ session: { lifetime: { idleTimeout: 10 * 60_000 } } })
    const agent = await client(server.mcpUrl)
    const pending = agent.client.callTool({ name: 'slow', arguments: {} }, undefined, { timeout: 5_000 }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    )
    await expect.poll(() => app.gate.waiting).toBe(1)
    expect(server.handler.openTransports).toBe(1)
    app.clock.advance(10 * 60_000)
    expect(await server.handler.sweep()).toBe(1)
    expect(server.handler.openTransports).toBe(0)
    const outcome = await pending
    expect('error' in outcome && outcome.error instanceof McpError && outcome.error.code).toBe(JSON_RPC_CODE.NOT_FOUND)
    app.gate.open()
  })

  it('a sweep timer evicts without anyone calling sweep()', async () => {
    const { server, app } = await setup({ session: { lifetime: { idleTimeout: 10 * 60_000 }, sweepInterval: 20 } })
    const agent = await client(server.mcpUrl)
    const token = tokenOf(await agent.call('login', ALICE))
    app.clock.advance(10 * 60_000)
    await expect.poll(() => app.sessions.loadByToken(token), { timeout: 2_000 }).toBeUndefined()
  })
})

describe('several server processes sharing one store', () => {
  it('an MCP session started on one server is served by another that shares the store', async () => {
    const app = createTestApp()
    const one = await startTestServer(app)
    defer(() => one.close())
    // A second server: its own runner, manager and handler, only the store (and clock) shared.
    const other = createTestApp({ clock: app.clock, store: app.store })
    const two = await startTestServer(other)
    defer(() => two.close())

    const first = await client(one.mcpUrl)
    await first.call('login', ALICE)
    const sessionId = first.transport.sessionId!

    const second = await client(two.mcpUrl, { sessionId })
    expect((await second.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    await second.call('logout')
    expect(await httpStatusOf(first.call('getProfile'))).toBe(401)

    await second.transport.terminateSession()
    expect(await httpStatusOf(first.call('getPublicData'))).toBe(404)
  })
})

describe('stateless mode', () => {
  it('issues no Mcp-Session-Id and takes the caller from the bearer token of each request', async () => {
    const { server } = await setup({ session: { mode: 'stateless' } })
    const anonymous = await client(server.mcpUrl)
    expect(anonymous.transport.sessionId).toBeUndefined()
    expect(await anonymous.toolNames()).toEqual(ANONYMOUS_TOOLS)
    const token = tokenOf(await anonymous.call('login', ALICE))
    // Nothing binds the login to the connection.
    expect(await httpStatusOf(anonymous.call('getProfile'))).toBe(401)

    const agent = await client(server.mcpUrl, { token })
    expect((await agent.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    expect((await fetch(server.mcpUrl, { method: 'DELETE' })).status).toBe(405)
  })
})

describe('the HTTP endpoint', () => {
  it('refuses a browser Origin that is not allowed with 403 and lets allowed and absent origins through', async () => {
    const { server } = await setup({ http: { allowedOrigins: ['https://app.example.com'] } })
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    })
    const evil = await rawPost(server.mcpUrl, init, { origin: 'http://evil.example' })
    expect(evil.status).toBe(403)
    expect(await evil.json()).toMatchObject({ error: { code: JSON_RPC_CODE.FORBIDDEN } })
    expect((await rawPost(server.mcpUrl, init, { origin: 'https://app.example.com' })).status).toBe(200)
    expect((await rawPost(server.mcpUrl, init)).status).toBe(200)
    // A rebinding page on another host name is refused whatever its Host header says.
    expect((await rawPost(server.mcpUrl, init, { origin: 'http://rebound.example:3000' })).status).toBe(403)
  })

  it('lets an allowed browser origin read answers (CORS), including the Mcp-Session-Id', async () => {
    const { server } = await setup({ http: { allowedOrigins: ['https://app.example.com'] } })
    const preflight = await fetch(server.mcpUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
    expect(preflight.headers.get('access-control-allow-headers')).toContain('mcp-session-id')
    const init = await rawPost(
      server.mcpUrl,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
      { origin: 'https://app.example.com' },
    )
    expect(init.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
    expect(init.headers.get('access-control-expose-headers')).toContain('mcp-session-id')
    expect(init.headers.get('mcp-session-id')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await init.body?.cancel()
    const refused = await fetch(server.mcpUrl, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } })
    expect(refused.status).toBe(403)
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('never copies a hostile Host header into the WWW-Authenticate challenge', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'getProfile', arguments: {} } })
    // fetch cannot set Host; node:http can.
    const answer = await new Promise<{ status?: number; challenge?: string }>((resolve, reject) => {
      const req = request(
        server.mcpUrl,
        {
          method: 'POST',
          headers: {
            host: 'evil.example", error="nope',
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': agent.transport.sessionId!,
            'mcp-protocol-version': '2025-11-25',
          },
        },
        (res) => {
          res.resume()
          resolve({ status: res.statusCode, challenge: res.headers['www-authenticate'] })
        },
      )
      req.on('error', reject)
      req.end(body)
    })
    // A loopback server answers to loopback names only (DNS-rebinding defence): refused, nothing reflected.
    expect(answer).toEqual({ status: 403, challenge: undefined })
  })

  it('answers with plain JSON instead of an SSE stream when jsonResponse is set', async () => {
    const { server } = await setup({ http: { jsonResponse: true } })
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    expect((await agent.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    const response = await rawPost(server.mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }), {
      'mcp-session-id': agent.transport.sessionId!,
    })
    expect(response.headers.get('content-type')).toContain('application/json')
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: 9, result: { tools: expect.any(Array) } })
  })

  it('serves clients of every protocol revision with sessions, 2025-03-26 to 2025-11-25', async () => {
    const { server } = await setup()
    const dataOf = async (response: Response): Promise<{ result?: Record<string, unknown> }> => {
      const text = await response.text()
      const line = text.split('\n').find((candidate) => candidate.startsWith('data: '))
      return JSON.parse(line === undefined ? text : line.slice('data: '.length)) as { result?: Record<string, unknown> }
    }
    for (const version of ['2025-03-26', '2025-06-18', '2025-11-25']) {
      const init = await rawPost(
        server.mcpUrl,
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'old', version: '1' } } }),
        { 'mcp-protocol-version': version },
      )
      expect((await dataOf(init)).result?.['protocolVersion']).toBe(version)
      const sessionId = init.headers.get('mcp-session-id')!
      const list = await rawPost(server.mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), {
        'mcp-session-id': sessionId,
        'mcp-protocol-version': version,
      })
      expect(list.status).toBe(200)
      expect((await dataOf(list)).result?.['tools']).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'login' })]))
    }
  })

  it('answers GET with 405 in stateless mode (no MCP session to hold a stream), and 400 without a session id in stateful mode', async () => {
    const { server } = await setup({ session: { mode: 'stateless', sweepInterval: 0 } })
    const response = await fetch(server.mcpUrl, { headers: { accept: 'text/event-stream' } })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('POST')
    const stateful = (await setup()).server
    const noSession = await fetch(stateful.mcpUrl, { headers: { accept: 'text/event-stream' } })
    expect(noSession.status).toBe(400)
  })

  it('refuses misconfiguration when the handler is created, saying what to change', () => {
    const app = createTestApp()
    const base = { mcp: app.mcp, runner: app.runner, sessions: app.sessions, sweepInterval: 0 }
    // One origin parser (@pikku/http's): a trailing slash is an origin, a path is not.
    expect(() => createMCPHTTPHandler({ ...base, allowedOrigins: ['https://app.example.com/'] })).not.toThrow()
    expect(() => createMCPHTTPHandler({ ...base, allowedOrigins: ['https://app.example.com/app'] })).toThrow('allowedOrigins[0] must be an origin')
    expect(() => createMCPHTTPHandler({ ...base, anonymousSessions: { max: 0 } })).toThrow('anonymousSessions.max must be a whole number')
    expect(() => createMCPHTTPHandler({ ...base, anonymousSessions: { idleTimeout: -1 } })).toThrow('anonymousSessions.idleTimeout must be a positive number')
    expect(() => createMCPHTTPHandler({ ...base, loopback: 'yes' as never })).toThrow('loopback must be true, false or left out')
    expect(() => createMCPHTTPHandler({ ...base, path: 'mcp' })).toThrow("path must start with '/'")
    expect(() => createMCPHTTPHandler({ ...base, idleTimeout: 1_000, renewalInterval: 5_000 })).toThrow('renewalInterval must be')
    expect(() => createMCPHTTPHandler({ ...base, resourceUrl: '/mcp' })).toThrow('resourceUrl must be an absolute URL')
    expect(() => createMCPHTTPHandler({ ...base, mode: 'sometimes' as never })).toThrow("mode must be 'stateful' or 'stateless'")
  })

  it('leaves other paths to the next handler', async () => {
    const { server } = await setup()
    expect((await fetch(`${server.url}/other`)).status).toBe(404)
    expect(await (await fetch(`${server.url}/other`)).text()).toBe('not found')
  })

  it('refuses a body over the limit with 413', async () => {
    const { server } = await setup({ http: { bodyLimit: 1_000 } })
    const response = await rawPost(server.mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(2_000) } }))
    expect(response.status).toBe(413)
  })
})
