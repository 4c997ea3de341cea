import { PassThrough } from 'node:stream'
import { createInterface } from 'node:readline'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkRequestParams } from './argument-validation.js'
import { clientLabel } from './client-label.js'
import { serveMCPStdio } from './stdio-server.js'
import {
  ALICE,
  connectClient,
  createTestApp,
  initializeBody,
  jsonRpcOf,
  rawPost,
  startTestServer,
  type TestApp,
  type TestServer,
  tokenOf,
} from './test-app.test-support.js'

// A caller's mistake in a request's params or a tool's arguments is -32602 Invalid params with a
// readable message, never -32603 Internal error (which agents read as a crash).

let app: TestApp
let server: TestServer
let token: string
let sessionId: string

beforeAll(async () => {
  app = createTestApp()
  server = await startTestServer(app)
  const first = await connectClient(server.mcpUrl)
  token = tokenOf(await first.call('login', ALICE))
  await first.close()
  // A session of Alice's, by bearer token: tools that need a session run their schemas too.
  const init = await rawPost(server.mcpUrl, initializeBody(), { authorization: `Bearer ${token}` })
  await init.arrayBuffer()
  sessionId = init.headers.get('mcp-session-id')!
})

afterAll(async () => {
  await server.close()
})

async function call(params: unknown): Promise<{ status: number; message: ReturnType<typeof jsonRpcOf> }> {
  const response = await rawPost(server.mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params }), {
    'mcp-session-id': sessionId,
    authorization: `Bearer ${token}`,
  })
  return { status: response.status, message: jsonRpcOf(await response.text()) }
}

// Tools that end the caller's session or wait on a gate are left out: the rest run with any input.
const TOOLS = ['login', 'getProfile', 'getPublicData', 'adminReport', 'shout', 'broken', 'missing', 'readDocument']

const argumentValues = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      email: fc.oneof(fc.emailAddress(), fc.jsonValue()),
      password: fc.oneof(fc.string(), fc.jsonValue()),
      ownerId: fc.oneof(fc.constantFrom('u-alice', 'u-bob'), fc.jsonValue()),
      input: fc.oneof(fc.string({ maxLength: 30 }), fc.jsonValue()),
    },
    { requiredKeys: [] },
  ),
)

describe('tool arguments', () => {
  it('never answer a tools/call with -32603, whatever the arguments; invalid ones get -32602 and a readable message', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TOOLS), fc.option(argumentValues, { nil: undefined }), async (name, args) => {
        const { status, message } = await call(args === undefined ? { name } : { name, arguments: args })
        expect(status).toBe(200)
        if (message.error === undefined) return
        expect(message.error.code).not.toBe(-32603)
        if (message.error.code === -32602) {
          expect(message.error.message).toMatch(/^(Invalid input: |Invalid params for tools\/call: )/)
          expect(message.error.data).toMatchObject({ code: 'BAD_REQUEST', details: { issues: expect.any(Array) } })
        }
      }),
      { numRuns: 150 },
    )
  })

  it('never answer malformed tools/call params with -32603', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (params) => {
        const { status, message } = await call(params)
        expect(status).toBeLessThan(500)
        expect(message.error?.code).not.toBe(-32603)
      }),
      { numRuns: 80 },
    )
  })

  it('answer arguments of the wrong kind (not an object) with -32602 naming what was wrong', async () => {
    const { message } = await call({ name: 'shout', arguments: 'hi' })
    expect(message.error).toMatchObject({
      code: -32602,
      message: 'Invalid params for tools/call: params.arguments: Invalid input: expected record, received string',
    })
  })

  it('refuse extra arguments of a tool that takes { input }', async () => {
    const { message } = await call({ name: 'shout', arguments: { input: 'hi', loud: true } })
    expect(message.error).toMatchObject({ code: -32602, message: expect.stringContaining('loud: Unknown argument') })
  })

  it('are checked the same way on stdio', async () => {
    const stdin = new PassThrough()
    const stdout = new PassThrough()
    const served = await serveMCPStdio({ mcp: app.mcp, runner: app.runner, sessions: app.sessions, stdin, stdout, token })
    const lines = createInterface({ input: stdout })
    const answers: { id?: number; error?: { code: number; message: string } }[] = []
    lines.on('line', (line) => answers.push(JSON.parse(line) as (typeof answers)[number]))
    const send = (message: unknown): void => void stdin.write(`${JSON.stringify(message)}\n`)
    send(JSON.parse(initializeBody()))
    send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'shout', arguments: ['hi'] } })
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'login', arguments: { email: 'nope' } } })
    send({ jsonrpc: '2.0', id: 4, method: 'tools/list', params: { cursor: 5 } })
    await expect.poll(() => answers.length).toBe(4)
    expect(answers.find((answer) => answer.id === 2)?.error).toMatchObject({ code: -32602, message: expect.stringContaining('params.arguments') })
    expect(answers.find((answer) => answer.id === 3)?.error).toMatchObject({ code: -32602, message: expect.stringMatching(/^Invalid input: /) })
    expect(answers.find((answer) => answer.id === 4)?.error).toMatchObject({ code: -32602, message: expect.stringContaining('Invalid params for tools/list') })
    lines.close()
    await served.close()
  })
})

describe('request params', () => {
  it('are classified without throwing: fitting, or -32602 with every issue listed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('initialize', 'ping', 'tools/list', 'tools/call', 'other/method'), fc.jsonValue(), async (method, params) => {
        const refusal = await checkRequestParams({ jsonrpc: '2.0', id: 1, method, params } as never)
        if (refusal === undefined) return
        expect(refusal.code).toBe(-32602)
        expect(refusal.message.startsWith(`Invalid params for ${method}: `)).toBe(true)
        expect((refusal.data as { details: { issues: unknown[] } }).details.issues.length).toBeGreaterThan(0)
      }),
    )
  })
})

describe('client labels', () => {
  it('are printable, at most 120 characters, and name/version when both are given', () => {
    fc.assert(
      fc.property(fc.anything(), (clientInfo) => {
        const label = clientLabel(clientInfo)
        if (label === undefined) return
        expect(label.length).toBeGreaterThan(0)
        expect(label.length).toBeLessThanOrEqual(120)
        expect(label).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
      }),
    )
    expect(clientLabel({ name: 'claude-code', version: '2.1.0' })).toBe('claude-code/2.1.0')
    expect(clientLabel({ name: 'agent\nFAKE LOG LINE', version: 1 })).toBe('agentFAKE LOG LINE')
    expect(clientLabel({ version: '1' })).toBeUndefined()
  })
})
