import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { describe, expect, it } from 'vitest'
import { ALICE, createTestApp, initializeBody, perTest, rawPost, type TestApp, type TestSession } from './test-app.test-support.js'

// GET /mcp opens the standalone SSE stream of an MCP session; when the caller's identity in it
// changes (login, logout, revocation), the stream gets notifications/tools/list_changed.

const { setup, defer } = perTest()

const LIST_CHANGED = 'notifications/tools/list_changed'

/** The events of one standalone stream, read as they arrive. */
interface EventReader {
  readonly status: number
  next(timeoutMs?: number): Promise<string | 'ended'>
}

async function openStream(mcpUrl: string, sessionId: string, headers: Record<string, string> = {}): Promise<EventReader> {
  const controller = new AbortController()
  defer(async () => controller.abort())
  const response = await fetch(mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, ...headers }, signal: controller.signal })
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  return {
    status: response.status,
    async next(timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const boundary = buffer.indexOf('\n\n')
        if (boundary !== -1) {
          const event = buffer.slice(0, boundary)
          buffer = buffer.slice(boundary + 2)
          const data = event.split('\n').find((line) => line.startsWith('data: '))
          if (data !== undefined) return (JSON.parse(data.slice(6)) as { method: string }).method
          continue
        }
        const remaining = deadline - Date.now()
        if (remaining <= 0) throw new Error('no event in time')
        const chunk = await Promise.race([reader.read(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event in time')), remaining))])
        if (chunk.done) return 'ended'
        buffer += decoder.decode(chunk.value, { stream: true })
      }
    },
  }
}

async function initialize(mcpUrl: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await rawPost(mcpUrl, initializeBody(), headers)
  expect(response.status).toBe(200)
  return response.headers.get('mcp-session-id') as string
}

function call(mcpUrl: string, sessionId: string, name: string, args: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return rawPost(mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } }), { 'mcp-session-id': sessionId, ...headers })
}

async function tokenFor(app: TestApp, user: TestSession): Promise<{ token: string; id: string }> {
  const state = app.sessions.createState()
  await state.set(user, { login: true })
  const result = await app.sessions.commit(state)
  if (result.kind !== 'created') throw new Error('no session')
  return { token: result.token, id: result.record.id }
}

describe('the standalone stream (GET /mcp)', () => {
  it('tells the client tools/list_changed when it logs in in the MCP session, and again when it logs out', async () => {
    const { server } = await setup()
    const sessionId = await initialize(server.mcpUrl)
    const stream = await openStream(server.mcpUrl, sessionId)
    expect(stream.status).toBe(200)
    expect(server.handler.notificationStreams).toBe(1)
    await (await call(server.mcpUrl, sessionId, 'login', ALICE)).arrayBuffer()
    expect(await stream.next()).toBe(LIST_CHANGED)
    await (await call(server.mcpUrl, sessionId, 'logout')).arrayBuffer()
    expect(await stream.next()).toBe(LIST_CHANGED)
    // One change, one notification: the logout's two events (session deleted, MCP session unbound) are told once.
    await expect(stream.next(300)).rejects.toThrow('no event in time')
  })

  it('tells a stream opened with a bearer token, then ends it, when that token’s session is revoked', async () => {
    const { app, server } = await setup()
    const { token, id } = await tokenFor(app, { userId: 'u-alice', name: 'Alice', role: 'user' })
    const auth = { authorization: `Bearer ${token}` }
    const sessionId = await initialize(server.mcpUrl, auth)
    const stream = await openStream(server.mcpUrl, sessionId, auth)
    await app.sessions.revoke(id)
    expect(await stream.next()).toBe(LIST_CHANGED)
    expect(await stream.next()).toBe('ended')
  })

  it('refuses a stream on someone else’s MCP session, without the owner’s credential, or without Accept: text/event-stream', async () => {
    const { app, server } = await setup()
    const alice = await tokenFor(app, { userId: 'u-alice', name: 'Alice', role: 'user' })
    const bob = await tokenFor(app, { userId: 'u-bob', name: 'Bob', role: 'user' })
    const sessionId = await initialize(server.mcpUrl, { authorization: `Bearer ${alice.token}` })
    const get = (headers: Record<string, string>): Promise<Response> => fetch(server.mcpUrl, { headers: { 'mcp-session-id': sessionId, accept: 'text/event-stream', ...headers } })
    expect((await get({})).status).toBe(401)
    expect((await get({ authorization: `Bearer ${bob.token}` })).status).toBe(404)
    expect((await get({ authorization: `Bearer ${alice.token}`, accept: 'application/json' })).status).toBe(406)
    expect((await fetch(server.mcpUrl, { headers: { 'mcp-session-id': 'no-such-session', accept: 'text/event-stream' } })).status).toBe(404)
    expect(server.handler.notificationStreams).toBe(0)
  })

  it('hears a login made through another server sharing the store', async () => {
    const app = createTestApp()
    const { server: a } = await setup({}, app)
    const { server: b } = await setup({}, app)
    const alice = await tokenFor(app, { userId: 'u-alice', name: 'Alice', role: 'user' })
    const auth = { authorization: `Bearer ${alice.token}` }
    // A stored MCP session (owned by a credential), so both servers know it.
    const sessionId = await initialize(a.mcpUrl, auth)
    const stream = await openStream(b.mcpUrl, sessionId, auth)
    await (await call(a.mcpUrl, sessionId, 'login', ALICE, auth)).arrayBuffer()
    expect(await stream.next()).toBe(LIST_CHANGED)
  })

  it('reaches the MCP SDK’s own client, which opens the stream by itself and hears the change', async () => {
    const { server } = await setup()
    const client = new Client({ name: 'stream-test', version: '1.0.0' })
    const heard: string[] = []
    client.setNotificationHandler(ToolListChangedNotificationSchema, async (notification) => {
      heard.push(notification.method)
    })
    await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl)))
    defer(() => client.close())
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(true)
    await expect.poll(() => server.handler.notificationStreams).toBe(1)
    const before = (await client.listTools()).tools.map((tool) => tool.name)
    expect(before).not.toContain('getProfile')
    await client.callTool({ name: 'login', arguments: ALICE })
    await expect.poll(() => heard).toEqual([LIST_CHANGED])
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('getProfile')
  })
})
