import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INVALID_REQUEST, PARSE_ERROR, parseJsonRpcBody } from './json-rpc-body.js'
import { connectClient, createTestApp, rawPost, rawRequest, startTestServer, type TestClient, type TestServer } from './test-app.test-support.js'

let server: TestServer
let agent: TestClient

beforeAll(async () => {
  server = await startTestServer(createTestApp())
  agent = await connectClient(server.mcpUrl)
})

afterAll(async () => {
  await agent.close()
  await server.close()
})

async function expectJsonRpcError(response: Response, codes: readonly number[]): Promise<void> {
  expect(response.status).toBe(400)
  const body = (await response.json()) as { jsonrpc?: unknown; error?: { code?: unknown } }
  expect(body.jsonrpc).toBe('2.0')
  expect(codes).toContain(body.error?.code)
}

const jsonRpcShaped = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.string()),
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.double()),
    method: fc.oneof(fc.constantFrom('tools/call', 'tools/list', 'initialize', 'ping', 'notifications/initialized'), fc.string()),
    params: fc.oneof(
      fc.jsonValue(),
      fc.record({ name: fc.oneof(fc.constantFrom('getProfile', 'login', 'shout', 'adminReport'), fc.string()), arguments: fc.jsonValue() }, { requiredKeys: [] }),
    ),
    result: fc.jsonValue(),
    error: fc.jsonValue(),
  },
  { requiredKeys: [] },
)

describe('untrusted request bodies', () => {
  it('classifies any text as messages, a parse error or an invalid request without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.jsonValue().map((value) => JSON.stringify(value))), (text) => {
        const parsed = parseJsonRpcBody(text)
        if (!parsed.ok) expect([PARSE_ERROR, INVALID_REQUEST]).toContain(parsed.code)
      }),
    )
  })

  it('answers text that is not JSON with a JSON-RPC parse error (-32700), never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', minLength: 1 }).filter((text) => {
          try {
            JSON.parse(text)
            return false
          } catch {
            return true
          }
        }),
        async (text) => {
          await expectJsonRpcError(await rawPost(server.mcpUrl, text, { 'mcp-session-id': agent.transport.sessionId! }), [PARSE_ERROR])
        },
      ),
      { numRuns: 60 },
    )
  })

  it('answers JSON that is not a JSON-RPC message with invalid request (-32600)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue().filter((value) => !parseJsonRpcBody(JSON.stringify(value)).ok),
        async (value) => {
          await expectJsonRpcError(await rawPost(server.mcpUrl, JSON.stringify(value)), [INVALID_REQUEST])
        },
      ),
      { numRuns: 60 },
    )
  })

  it('answers random Authorization and Mcp-Session-Id headers with 401, 404 or 400, never a 500', async () => {
    const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 120 })
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.oneof(headerValue, headerValue.map((value) => `Bearer ${value}`)), { nil: undefined }),
        fc.option(fc.oneof(headerValue, fc.constant(agent.transport.sessionId!)), { nil: undefined }),
        async (authorization, sessionId) => {
          const headers: Record<string, string> = {}
          if (authorization !== undefined) headers['authorization'] = authorization
          if (sessionId !== undefined) headers['mcp-session-id'] = sessionId
          const response = await rawPost(server.mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), headers)
          await response.arrayBuffer()
          if (authorization !== undefined && authorization.trim() !== '' && sessionId === agent.transport.sessionId) expect(response.status).toBe(401)
          else expect([200, 400, 401, 404]).toContain(response.status)
        },
      ),
      { numRuns: 80 },
    )
  })

  it('answers any Accept, Content-Type and Mcp-Protocol-Version (the headers handed to the SDK) without a 500', async () => {
    // What node:http lets a client send in a header value: tab, printable ASCII and bytes 0x80-0xff.
    const headerValue = fc.string({
      unit: fc.oneof(fc.constant('\t'), fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })).map((unit) => (typeof unit === 'string' ? unit : String.fromCharCode(unit))),
      maxLength: 60,
    })
    const sometimes = (valid: string) => fc.option(fc.oneof(fc.constant(valid), headerValue), { nil: undefined })
    await fc.assert(
      fc.asyncProperty(sometimes('application/json, text/event-stream'), sometimes('application/json'), sometimes('2025-11-25'), async (accept, contentType, version) => {
        const headers: Record<string, string> = { 'mcp-session-id': agent.transport.sessionId! }
        if (accept !== undefined) headers['accept'] = accept
        if (contentType !== undefined) headers['content-type'] = contentType
        if (version !== undefined) headers['mcp-protocol-version'] = version
        const response = await rawRequest(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) })
        expect(response.status).toBeLessThan(500)
        if (response.status !== 200) expect(response.body).toContain('"jsonrpc":"2.0"')
      }),
      { numRuns: 80 },
    )
  })

  it('never answers a JSON-RPC-shaped body with a 500, in or out of a session', async () => {
    await fc.assert(
      fc.asyncProperty(jsonRpcShaped, fc.boolean(), fc.boolean(), async (message, inSession, batch) => {
        const headers: Record<string, string> = inSession ? { 'mcp-session-id': agent.transport.sessionId! } : {}
        const response = await rawPost(server.mcpUrl, JSON.stringify(batch ? [message, message] : message), headers)
        expect(response.status).toBeLessThan(500)
        await response.arrayBuffer()
      }),
      { numRuns: 80 },
    )
    // And the server still serves the agent afterwards.
    expect((await agent.call('getPublicData')).structuredContent).toEqual({ greeting: 'hello stranger' })
  })
})
