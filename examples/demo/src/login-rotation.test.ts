import { connectTestClient, type TestChannelClient } from '@pikku/channel/testing'
import { bearerSubprotocols } from '@pikku/middleware-channel-session'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ALICE, startHarness, type Harness } from './demo-harness.test-support.js'

// Issue 15, point 3: every successful login gets a new session id and credential and ends the
// session the client had, even when the same user logs in again (OWASP session management: renew
// the session id on any authentication). Changing preferences keeps the session.

let harness: Harness
const sockets: TestChannelClient[] = []
const agents: Client[] = []

beforeAll(async () => {
  harness = await startHarness()
})
afterEach(async () => {
  for (const socket of sockets.splice(0)) await socket.close().catch(() => undefined)
  for (const agent of agents.splice(0)) await agent.close().catch(() => undefined)
})
afterAll(async () => {
  await harness.close()
})

function sessionCookieOf(setCookies: string[]): string | undefined {
  return setCookies.map((line) => line.split(';')[0]!).find((pair) => !pair.endsWith('='))
}

describe('logging in again over HTTP', () => {
  it('with the old cookie sets a new cookie, and the old cookie (and its bearer token) then get 401', async () => {
    const browser = harness.client()
    const first = await browser.request('POST', '/login', { body: ALICE })
    expect(first.status).toBe(200)
    const oldCookie = await browser.jar.getCookieString(harness.demo.url)
    expect(oldCookie).not.toBe('')

    const second = await browser.request('POST', '/login', { body: ALICE })
    expect(second.status).toBe(200)
    const newCookie = sessionCookieOf(second.headers.getSetCookie())
    expect(newCookie).toBeDefined()
    expect(newCookie).not.toBe(oldCookie)
    expect(await browser.jar.getCookieString(harness.demo.url)).toBe(newCookie)
    expect(second.body.token).not.toBe(first.body.token)

    expect((await browser.request('GET', '/profile')).status).toBe(200)
    expect((await fetch(`${harness.demo.url}/profile`, { headers: { cookie: oldCookie } })).status).toBe(401)
    expect((await fetch(`${harness.demo.url}/profile`, { headers: { authorization: `Bearer ${first.body.token as string}` } })).status).toBe(401)
    expect((await fetch(`${harness.demo.url}/profile`, { headers: { authorization: `Bearer ${second.body.token as string}` } })).status).toBe(200)
    // One session for the user: the earlier one was ended, not left to expire.
    const sessions = await harness.app.sessions.listUserSessions('user-alice')
    expect(sessions.filter((record) => record.userId === 'user-alice')).toHaveLength(1)
    await browser.request('POST', '/logout')
  })

  it('updating preferences keeps the cookie: no new cookie, and the same cookie keeps working', async () => {
    const browser = harness.client()
    await browser.request('POST', '/login', { body: ALICE })
    const cookie = await browser.jar.getCookieString(harness.demo.url)
    const token = cookie.slice(cookie.indexOf('=') + 1)
    const before = await harness.app.sessions.loadByToken(token)
    expect(before).toBeDefined()
    const update = await browser.request('PUT', '/preferences', { body: { theme: 'dark' } })
    expect(update.status).toBe(200)
    expect(update.headers.getSetCookie()).toEqual([])
    const after = await harness.app.sessions.loadByToken(token)
    expect(after?.id).toBe(before?.id)
    expect(after?.data.preferences).toEqual({ theme: 'dark' })
    const profile = await fetch(`${harness.demo.url}/profile`, { headers: { cookie } })
    expect(profile.status).toBe(200)
    await browser.request('POST', '/logout')
  })
})

describe('logging in again over a WebSocket', () => {
  it('returns a new token, and the token of the earlier login stops working', async () => {
    const url = `${harness.demo.url.replace('http://', 'ws://')}/ws`
    const socket = await connectTestClient(url)
    sockets.push(socket)
    const first = (await socket.call('login', ALICE)).result as { token: string }
    const second = (await socket.call('login', ALICE)).result as { token: string }
    expect(second.token).not.toBe(first.token)
    expect((await socket.call('getProfile')).result).toMatchObject({ email: ALICE.email })
    // The session behind the first token is gone: a new connection with it is anonymous.
    const withOld = await connectTestClient(url, { protocols: bearerSubprotocols(first.token) })
    sockets.push(withOld)
    expect((await withOld.call('getProfile')).error?.code).toBe('UNAUTHORIZED')
    const withNew = await connectTestClient(url, { protocols: bearerSubprotocols(second.token) })
    sockets.push(withNew)
    expect((await withNew.call('getProfile')).result).toMatchObject({ email: ALICE.email })
    await socket.call('logout')
  })
})

describe('logging in again over MCP', () => {
  it('the login tool rotates the bound session: the earlier token gets 401, the MCP session keeps working', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(`${harness.demo.url}/mcp`))
    const agent = new Client({ name: 'login-rotation-test', version: '0.0.1' })
    await agent.connect(transport)
    agents.push(agent)
    const login = async (): Promise<string> => {
      const result = (await agent.callTool({ name: 'login', arguments: ALICE })) as CallToolResult
      return (result.structuredContent as { token: string }).token
    }
    const first = await login()
    const second = await login()
    expect(second).not.toBe(first)
    expect(((await agent.callTool({ name: 'getProfile', arguments: {} })) as CallToolResult).structuredContent).toMatchObject({ email: ALICE.email })
    expect((await fetch(`${harness.demo.url}/profile`, { headers: { authorization: `Bearer ${first}` } })).status).toBe(401)
    expect((await fetch(`${harness.demo.url}/profile`, { headers: { authorization: `Bearer ${second}` } })).status).toBe(200)
    await agent.callTool({ name: 'logout', arguments: {} })
  })
})
