import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumAvailable, launchChromium, startHarness, type Harness } from './demo-harness.test-support.js'
import { memoryProvider } from './mcp-oauth.test-support.js'

// The browser step of an MCP client's sign-in in Chromium: the demo's login page, back to the
// consent page, the Allow button, and the redirect to the client's loopback callback.

const available = await chromiumAvailable()

describe.skipIf(!available)('signing an MCP client in with a real browser', () => {
  let harness: Harness
  let browser: Browser
  let callback: Server
  let callbackUrl: string
  const codes: URLSearchParams[] = []

  beforeAll(async () => {
    harness = await startHarness({ secureCookies: false })
    // The client's loopback redirect URI (RFC 8252), where the browser lands with the code.
    callback = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      if (url.pathname === '/callback') codes.push(url.searchParams)
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('You can close this window.')
    })
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve))
    callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise<void>((resolve) => (callback === undefined ? resolve() : callback.close(() => resolve())))
    await harness?.close()
  })

  it('logs in on the demo page, approves on the consent page, and the client calls getProfile as alice', async () => {
    const origin = harness.demo.url
    const provider = memoryProvider(callbackUrl)
    const first = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider })
    const anonymous = new Client({ name: 'browser-agent', version: '0.0.1' })
    await anonymous.connect(first)
    await expect(anonymous.callTool({ name: 'getProfile', arguments: {} })).rejects.toBeInstanceOf(UnauthorizedError)

    const page = await (await browser.newContext()).newPage()
    await page.goto((provider.authorizationUrl as URL).href)
    // Not signed in: the demo's login page, which knows where to return.
    expect(new URL(page.url()).searchParams.get('return_to')).toMatch(/^\/oauth\/interaction\//)
    await page.fill('#password', 'alice-password')
    await page.click('#login')
    await page.waitForSelector('button[name="decision"][value="allow"]')
    expect(await page.textContent('h1')).toContain('Demo Browser Agent')
    expect(await page.textContent('body')).toContain('alice@example.com')
    await page.click('button[name="decision"][value="allow"]')
    await expect.poll(() => codes.length).toBe(1)
    const params = codes[0] as URLSearchParams
    expect(params.get('iss')).toBe(origin)
    await first.finishAuth(params.get('code') as string)

    const client = new Client({ name: 'browser-agent', version: '0.0.1' })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider }))
    const profile = (await client.callTool({ name: 'getProfile', arguments: {} })) as CallToolResult
    expect(JSON.stringify(profile.structuredContent ?? profile.content)).toContain('alice@example.com')
    await client.close()
  })
})
