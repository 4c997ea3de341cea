import { PassThrough } from 'node:stream'
import { createInterface } from 'node:readline'
import type { PikkuClientInfo, PikkuMiddleware } from '@pikku/core'
import { describe, expect, it } from 'vitest'
import { serveMCPStdio } from './stdio-server.js'
import { ALICE, createTestApp, initializeBody, perTest, type TestApp, tokenOf } from './test-app.test-support.js'

// wire.client tells middleware (login throttling, audit) who is calling: the connection's peer
// address and the label the MCP client gave at initialize.

const { setup, client } = perTest()

function recordingApp(options: Parameters<typeof createTestApp>[0] = {}): { app: TestApp; seen: (PikkuClientInfo | undefined)[] } {
  const seen: (PikkuClientInfo | undefined)[] = []
  const record: PikkuMiddleware = async (_services, wire, next) => {
    seen.push(wire.client)
    await next()
  }
  return { app: createTestApp({ ...options, middleware: [record] }), seen }
}

describe('wire.client on MCP calls', () => {
  it('over HTTP: the peer address and the initialize clientInfo as name/version, on every call of the session', async () => {
    const { app, seen } = recordingApp()
    const { server } = await setup({}, app)
    const agent = await client(server.mcpUrl)
    await agent.call('getPublicData')
    // The login binds the session and moves it to the store: the label moves with it.
    await agent.call('login', ALICE)
    await agent.call('getProfile')
    expect(seen).toEqual([
      { address: '127.0.0.1', label: 'pikku-test-client/0.0.1' },
      { address: '127.0.0.1', label: 'pikku-test-client/0.0.1' },
      { address: '127.0.0.1', label: 'pikku-test-client/0.0.1' },
    ])
  })

  it('over HTTP on another process sharing the store: the label comes from the stored session', async () => {
    const { app } = recordingApp()
    const { app: otherApp, seen } = recordingApp({ clock: app.clock, store: app.store })
    const { server: one } = await setup({}, app)
    const { server: two } = await setup({}, otherApp)
    const first = await client(one.mcpUrl)
    const token = tokenOf(await first.call('login', ALICE))
    const second = await client(two.mcpUrl, { token, sessionId: first.transport.sessionId! })
    await second.call('getProfile')
    expect(seen).toEqual([{ address: '127.0.0.1', label: 'pikku-test-client/0.0.1' }])
  })

  it('over HTTP behind a proxy it is told to trust (http.trustProxy): the address the proxy appended to X-Forwarded-For', async () => {
    const { app, seen } = recordingApp()
    const { server: trusting } = await setup({ http: { trustProxy: true } }, app)
    const behindProxy = await client(trusting.mcpUrl, { headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' } })
    await behindProxy.call('getPublicData')
    const { server: plain } = await setup({}, app)
    const direct = await client(plain.mcpUrl, { headers: { 'x-forwarded-for': '203.0.113.9' } })
    await direct.call('getPublicData')
    // Only the rightmost entry (the proxy's own) is believed, and only when told to.
    expect(seen.map((info) => info?.address)).toEqual(['203.0.113.9', '127.0.0.1'])
  })

  it('over stdio: the label of the client that initialized the connection, and no address', async () => {
    const { app, seen } = recordingApp()
    const stdin = new PassThrough()
    const stdout = new PassThrough()
    const served = await serveMCPStdio({ mcp: app.mcp, runner: app.runner, sessions: app.sessions, stdin, stdout })
    const answers: unknown[] = []
    const lines = createInterface({ input: stdout })
    lines.on('line', (line) => answers.push(JSON.parse(line)))
    stdin.write(`${initializeBody({ name: 'stdio-agent', version: '3.1' })}\n`)
    stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`)
    stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'getPublicData', arguments: {} } })}\n`)
    await expect.poll(() => answers.length).toBe(2)
    expect(seen).toEqual([{ label: 'stdio-agent/3.1' }])
    lines.close()
    await served.close()
  })
})
