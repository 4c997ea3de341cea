import { type Logger, silentLogger } from '@pikku/core'
import { describe, expect, it } from 'vitest'
import { createMCPHTTPHandler } from './http-handler.js'
import { JSON_RPC_CODE } from './json-rpc-codes.js'
import { serveMCPStdio } from './stdio-server.js'
import { createTestApp, httpStatusOf, perTest, rawPost } from './test-app.test-support.js'

const { setup, client } = perTest()

function warnings(): { logger: Logger; messages: string[] } {
  const messages: string[] = []
  return { logger: { ...silentLogger, warn: (message) => void messages.push(message) }, messages }
}

describe('the handler’s options, grouped as session, http and metadata', () => {
  it('are checked when the handler is created, naming the option to change', () => {
    const app = createTestApp()
    const base = { mcp: app.mcp, runner: app.runner, sessions: app.sessions, session: { sweepInterval: 0 } }
    expect(() => createMCPHTTPHandler({ ...base, http: { allowedOrigins: ['https://app.example.com/app'] } })).toThrow('http.allowedOrigins[0] must be an origin')
    expect(() => createMCPHTTPHandler({ ...base, session: { anonymous: { max: 0 } } })).toThrow('session.anonymous.max must be a whole number')
    expect(() => createMCPHTTPHandler({ ...base, session: { anonymous: { idleTimeout: -1 } } })).toThrow('session.anonymous.idleTimeout must be a positive number')
    expect(() => createMCPHTTPHandler({ ...base, session: { lifetime: { idleTimeout: 1_000, renewalInterval: 5_000 } } })).toThrow(
      'session.lifetime.renewalInterval must be at least 0 and shorter than idleTimeout',
    )
    expect(() => createMCPHTTPHandler({ ...base, session: { lifetime: { absoluteTimeout: 0 } } })).toThrow('session.lifetime.absoluteTimeout must be a positive number')
    expect(() => createMCPHTTPHandler({ ...base, session: { mode: 'sometimes' as never } })).toThrow("session.mode must be 'stateful' or 'stateless'")
    expect(() => createMCPHTTPHandler({ ...base, session: { sweepInterval: -1 } })).toThrow('session.sweepInterval must be 0 or more ms')
    expect(() => createMCPHTTPHandler({ ...base, http: { path: 'mcp' } })).toThrow("http.path must start with '/'")
    expect(() => createMCPHTTPHandler({ ...base, http: { loopback: 'yes' as never } })).toThrow('http.loopback must be true, false or left out')
    expect(() => createMCPHTTPHandler({ ...base, http: { bodyLimit: 0 } })).toThrow('http.bodyLimit must be a positive whole number')
    expect(() => createMCPHTTPHandler({ ...base, http: { trustProxy: 'yes' as never } })).toThrow('http.trustProxy must be true or false')
    expect(() => createMCPHTTPHandler({ ...base, http: { clientAddress: 'x' as never } })).toThrow('http.clientAddress must be a function')
    expect(() => createMCPHTTPHandler({ ...base, metadata: { resourceUrl: '/mcp' } })).toThrow('metadata.resourceUrl must be an absolute URL')
    expect(() => createMCPHTTPHandler({ ...base, http: 'yes' as never })).toThrow("http must be an object such as { path: '/mcp' }")
  })

  it('keep the flat options of version 1 working for now, with one warning saying where each moved', async () => {
    const { logger, messages } = warnings()
    const { server } = await setup({ logger, path: '/agents', bodyLimit: 1_000, idleTimeout: 10 * 60_000 })
    expect(messages).toEqual([expect.stringContaining('move path → http.path, idleTimeout → session.lifetime.idleTimeout, bodyLimit → http.bodyLimit')])
    expect(await httpStatusOf(client(server.mcpUrl))).toBe(404)
    const agent = await client(`${server.url}/agents`)
    expect(await agent.toolNames()).toContain('login')
    expect((await rawPost(`${server.url}/agents`, 'x'.repeat(2_000))).status).toBe(413)
  })

  it('refuse a flat option set together with its new place', () => {
    const app = createTestApp()
    const base = { mcp: app.mcp, runner: app.runner, sessions: app.sessions }
    expect(() => createMCPHTTPHandler({ ...base, sweepInterval: 0, session: { sweepInterval: 0 } })).toThrow(
      'sweepInterval and session.sweepInterval are both set: keep session.sweepInterval',
    )
    expect(() => createMCPHTTPHandler({ ...base, idleTimeout: 1_000, session: { sweepInterval: 0, lifetime: { idleTimeout: 2_000 } } })).toThrow(
      'idleTimeout and session.lifetime.idleTimeout are both set',
    )
  })

  it('log a warning for the deprecated authenticateToken, on HTTP and stdio', async () => {
    const app = createTestApp()
    const { logger, messages } = warnings()
    const handler = createMCPHTTPHandler({ mcp: app.mcp, runner: app.runner, sessions: app.sessions, session: { sweepInterval: 0 }, authenticateToken: async () => undefined, logger })
    await handler.close()
    expect(messages).toEqual([expect.stringContaining('createMCPHTTPHandler: authenticateToken is deprecated')])
    await expect(serveMCPStdio({ mcp: app.mcp, runner: app.runner, sessions: app.sessions, authenticateToken: async () => undefined, authenticator: { authenticate: async () => ({ outcome: 'none' }) } })).rejects.toThrow(
      'serveMCPStdio: pass authenticator or authenticateToken, not both',
    )
  })
})

describe('JSON-RPC codes', () => {
  it('are the package’s own table: one distinct number per core code, server-defined except bad input and internal errors', () => {
    // The numbers themselves are pinned by core's README table (examples/demo/src/error-codes-readme.test.ts).
    const numbers = Object.values(JSON_RPC_CODE)
    expect(new Set(numbers).size).toBe(numbers.length)
    for (const [code, number] of Object.entries(JSON_RPC_CODE)) {
      if (code === 'BAD_REQUEST') expect(number).toBe(-32602)
      else if (code === 'INTERNAL') expect(number).toBe(-32603)
      else expect(number, code).toSatisfy((n: number) => n <= -32000 && n >= -32099)
    }
  })
})
