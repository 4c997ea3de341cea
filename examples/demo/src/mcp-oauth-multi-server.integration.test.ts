import { createServer } from 'node:net'
import { createClient } from 'redis'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE } from './demo-harness.test-support.js'
import { startDemoProcess, serviceAvailable, type DemoProcess } from './demo-process.test-support.js'
import { approveAsUser, memoryProvider, mcpStatus } from './mcp-oauth.test-support.js'

// Two demo processes behind one public URL share Redis: a grant made through one serves MCP on the
// other, and revoking it on one gives 401 on the other within a second.

const SECRET = 'multi-server-oauth-secret-0123456789abcdef'
// A database index of this test's own: it is emptied afterwards (registered clients live long).
const REDIS_URL = 'redis://127.0.0.1:6379/11'
const redisUp = await serviceAvailable('Redis', '127.0.0.1', 6379)

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe.skipIf(!redisUp)('OAuth grants on two demo servers sharing Redis', () => {
  let a: DemoProcess
  let b: DemoProcess
  let publicUrl: string

  beforeAll(async () => {
    const port = await freePort()
    // The first process listens on the public URL; the second is another server behind it.
    publicUrl = `http://127.0.0.1:${port}`
    const env = { SESSION_STORE: 'redis', SESSION_SECRETS: SECRET, REDIS_URL, PUBLIC_URL: publicUrl }
    a = await startDemoProcess({ ...env, PORT: String(port) })
    b = await startDemoProcess(env)
  }, 40_000)

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    const redis = createClient({ url: REDIS_URL })
    await redis.connect()
    await redis.flushDb()
    await redis.quit()
  })

  it('a token from one server works on the other, and revoking it on one ends it on both within a second', async () => {
    const provider = memoryProvider()
    const first = new StreamableHTTPClientTransport(new URL(`${publicUrl}/mcp`), { authProvider: provider })
    const anonymous = new Client({ name: 'multi-server-agent', version: '0.0.1' })
    await anonymous.connect(first)
    await expect(anonymous.callTool({ name: 'getProfile', arguments: {} })).rejects.toBeInstanceOf(UnauthorizedError)
    await first.finishAuth(await approveAsUser(publicUrl, provider.authorizationUrl as URL, ALICE))

    // The SDK's client on the second server, with the token the first one issued.
    const client = new Client({ name: 'multi-server-agent', version: '0.0.1' })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${b.url}/mcp`), { authProvider: provider }))
    const profile = (await client.callTool({ name: 'getProfile', arguments: {} })) as CallToolResult
    expect(JSON.stringify(profile.structuredContent ?? profile.content)).toContain('alice@example.com')
    await client.close()

    const tokens = provider.tokens()!
    const revoked = await fetch(`${publicUrl}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token!, client_id: provider.clientInformation()!.client_id }).toString(),
    })
    expect(revoked.status).toBe(200)
    const started = Date.now()
    let status = await mcpStatus(`${b.url}/mcp`, tokens.access_token)
    while (status !== 401 && Date.now() - started < 1000) status = await mcpStatus(`${b.url}/mcp`, tokens.access_token)
    expect(status).toBe(401)
    expect(Date.now() - started).toBeLessThan(1000)
  })
})
