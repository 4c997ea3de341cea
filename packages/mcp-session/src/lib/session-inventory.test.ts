import type { SessionLifecycleEvent } from '@pikku/core'
import { describe, expect, it } from 'vitest'
import { ALICE, createTestApp, initializeBody, perTest, rawPost, tokenOf } from './test-app.test-support.js'

// An MCP client's login is one of the user's sessions: listed with the client's name and address,
// and revoking it ends it for the agent at its next request.

const { setup, client } = perTest()

describe('MCP sessions in the session list', () => {
  it('a login over MCP is listed with the clientInfo name/version and the peer address', async () => {
    const app = createTestApp()
    const { server } = await setup({}, app)
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    expect(await app.sessions.list('u-alice')).toEqual([
      expect.objectContaining({ protocol: 'mcp', credential: 'in-band', client: 'pikku-test-client/0.0.1', address: '127.0.0.1' }),
    ])
  })

  it('revoking the agent’s session by handle answers its next request 401 with the challenge', async () => {
    const app = createTestApp()
    const { server } = await setup({}, app)
    const agent = await client(server.mcpUrl)
    const token = tokenOf(await agent.call('login', ALICE))
    const call = () =>
      rawPost(server.mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'getProfile', arguments: {} } }), {
        authorization: `Bearer ${token}`,
        'mcp-session-id': agent.transport.sessionId!,
      })
    expect((await call()).status).toBe(200)
    const [entry] = await app.sessions.list('u-alice')
    expect(await app.sessions.revokeHandle('u-alice', entry!.handle, { by: 'u-alice', reason: 'user' })).toBe(true)
    const refused = await call()
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer /)
  })

  it('a refused bearer token is reported as a refused event, with no token in it', async () => {
    const app = createTestApp()
    const events: SessionLifecycleEvent[] = []
    app.sessions.onEvent((event) => void events.push(event))
    const { server } = await setup({}, app)
    const token = 'x'.repeat(43)
    const response = await rawPost(server.mcpUrl, initializeBody(), { authorization: `Bearer ${token}` })
    expect(response.status).toBe(401)
    await new Promise((resolve) => setImmediate(resolve))
    expect(events).toEqual([expect.objectContaining({ type: 'refused', protocol: 'mcp', credential: 'bearer' })])
    expect(JSON.stringify(events)).not.toContain(token)
  })
})
