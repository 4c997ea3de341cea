import { JSON_RPC_CODE } from './json-rpc-codes.js'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { type CoreUserSession, createSessionManager, type SessionManager, type SessionStore } from '@pikku/core'
import { createSqliteStore } from '@pikku/session-store-sqlite'
import { build } from 'tsup'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ALICE, connectClient, createTestApp, OPS_KEY, rpcErrorOf, startTestServer, tokenOf, UNKNOWN_KEY } from './test-app.test-support.js'

// Real processes: the stdio server spawned by the SDK's StdioClientTransport, and a second HTTP
// server process sharing a SQLite session file with a server in this process.

const packageDir = fileURLToPath(new URL('../..', import.meta.url))
const fixtureDir = join(packageDir, 'node_modules', '.cache', 'mcp-session-fixture')
const fixture = join(fixtureDir, 'process-fixture.test-support.js')
let dataDir: string
let database: string
let store: SessionStore
let sessions: SessionManager

beforeAll(async () => {
  // The fixture is TypeScript; bundle it (packages stay external and resolve from this package).
  await build({
    entry: [join(packageDir, 'src/lib/process-fixture.test-support.ts')],
    outDir: fixtureDir,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    skipNodeModulesBundle: true,
    dts: false,
    silent: true,
    config: false,
    outExtension: () => ({ js: '.js' }),
  })
  dataDir = mkdtempSync(join(tmpdir(), 'pikku-mcp-'))
  database = join(dataDir, 'sessions.db')
  store = createSqliteStore({ path: database, sweepInterval: 0 }) as SessionStore
  sessions = createSessionManager({ store })
}, 60_000)

afterAll(async () => {
  await store?.close?.()
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
})

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
})

/** A stored session for a user, as the CLI's `login` would leave one; returns its token. */
async function loginDirectly(userId: string, name: string): Promise<string> {
  const state = sessions.createState()
  await state.set({ userId, name, role: 'user' } as CoreUserSession)
  const result = await sessions.commit(state)
  if (result.kind !== 'created') throw new Error(`expected a new session, got ${result.kind}`)
  return result.token
}

async function stdioClient(env: Record<string, string>): Promise<Client> {
  // FIXTURE_AUTH=api-key: the fixture's authenticator tries API keys, then session tokens.
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [fixture],
    env: { PATH: process.env['PATH'] ?? '', FIXTURE_DB: database, ...env },
    stderr: 'pipe',
  })
  const client = new Client({ name: 'stdio-test', version: '0.0.1' })
  await client.connect(transport)
  cleanups.push(() => client.close())
  return client
}

const rpcCode = async (promise: Promise<unknown>): Promise<number> => (await rpcErrorOf(promise)).code

const names = async (client: Client): Promise<string[]> => (await client.listTools()).tools.map((tool) => tool.name).sort()

describe('stdio', () => {
  it('acts as the user whose token is in the environment, and re-checks it on every request', async () => {
    const token = await loginDirectly('u-carol', 'Carol')
    const client = await stdioClient({ PIKKU_TEST_TOKEN: token })
    expect(await names(client)).toContain('getProfile')
    const profile = (await client.callTool({ name: 'getProfile', arguments: {} })) as CallToolResult
    expect(profile.structuredContent).toMatchObject({ userId: 'u-carol', name: 'Carol' })

    // Revoked from another process (this one): the next request is anonymous.
    await sessions.revokeUser('u-carol')
    expect(await rpcCode(client.callTool({ name: 'getProfile', arguments: {} }))).toBe(JSON_RPC_CODE.UNAUTHORIZED)
    expect(await names(client)).not.toContain('getProfile')
  })

  it('starts anonymous without a token; the login tool authenticates the connection until logout', async () => {
    const client = await stdioClient({})
    expect(await names(client)).not.toContain('getProfile')
    expect(await rpcCode(client.callTool({ name: 'getProfile', arguments: {} }))).toBe(JSON_RPC_CODE.UNAUTHORIZED)
    const login = (await client.callTool({ name: 'login', arguments: ALICE })) as CallToolResult
    // The session is in the shared store: this process can load it by the token login returned.
    expect((await sessions.loadByToken(tokenOf(login)))?.userId).toBe('u-alice')
    const profile = (await client.callTool({ name: 'getProfile', arguments: {} })) as CallToolResult
    expect(profile.structuredContent).toMatchObject({ userId: 'u-alice' })
    await client.callTool({ name: 'logout', arguments: {} })
    expect(await sessions.loadByToken(tokenOf(login))).toBeUndefined()
    expect(await rpcCode(client.callTool({ name: 'getProfile', arguments: {} }))).toBe(JSON_RPC_CODE.UNAUTHORIZED)
  })

  it('answers the last requests of a client that closes stdin right after writing them, then exits', async () => {
    const child = spawn(process.execPath, [fixture], { env: { PATH: process.env['PATH'] ?? '', FIXTURE_DB: database }, stdio: ['pipe', 'pipe', 'inherit'] })
    const lines: string[] = []
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(line))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const messages = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'sh', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'login', arguments: ALICE } },
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
    ]
    child.stdin.end(messages.map((message) => JSON.stringify(message)).join('\n') + '\n')
    expect(await exited).toBe(0)
    const answered = lines.map((line) => JSON.parse(line) as { id?: number; result?: { structuredContent?: { token?: string } } })
    expect(answered.map((message) => message.id).sort()).toEqual([1, 2, 3])
    // The login belonged to the connection, which has ended: its session is revoked.
    const token = answered.find((message) => message.id === 2)?.result?.structuredContent?.token
    expect(typeof token).toBe('string')
    expect(await sessions.loadByToken(token!)).toBeUndefined()
  })

  it('acts as the user of an API key in the environment (a transient session: nothing stored), through the authenticator', async () => {
    const client = await stdioClient({ FIXTURE_AUTH: 'api-key', PIKKU_TEST_TOKEN: OPS_KEY })
    expect(await names(client)).toContain('adminReport')
    const profile = (await client.callTool({ name: 'getProfile', arguments: {} })) as CallToolResult
    expect(profile.structuredContent).toEqual({ userId: 'u-ops-bot', name: 'Ops bot', role: 'admin' })
    expect((await client.callTool({ name: 'adminReport', arguments: {} })).structuredContent).toEqual({ secret: 42 })
    expect(await sessions.listUserSessions('u-ops-bot')).toEqual([])
    // A key the authenticator refuses is no session; a session token still works through it.
    const unknown = await stdioClient({ FIXTURE_AUTH: 'api-key', PIKKU_TEST_TOKEN: UNKNOWN_KEY })
    expect(await rpcCode(unknown.callTool({ name: 'getProfile', arguments: {} }))).toBe(JSON_RPC_CODE.UNAUTHORIZED)
    const token = await loginDirectly('u-dave', 'Dave')
    const withToken = await stdioClient({ FIXTURE_AUTH: 'api-key', PIKKU_TEST_TOKEN: token })
    expect(((await withToken.callTool({ name: 'getProfile', arguments: {} })) as CallToolResult).structuredContent).toMatchObject({ userId: 'u-dave' })
  })

  it('an invalid token in the environment is no session, not a crash', async () => {
    const client = await stdioClient({ PIKKU_TEST_TOKEN: 'x'.repeat(43) })
    expect((await client.callTool({ name: 'getPublicData', arguments: {} })).structuredContent).toEqual({ greeting: 'hello stranger' })
  })
})

describe('two server processes sharing a SQLite session store', () => {
  async function spawnHttpServer(): Promise<{ url: string; child: ChildProcess }> {
    const child = spawn(process.execPath, [fixture], {
      env: { PATH: process.env['PATH'] ?? '', FIXTURE_DB: database, FIXTURE_MODE: 'http' },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    cleanups.push(async () => {
      child.stdin?.end()
      child.kill()
    })
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`the server process exited with ${code}`)))
    })
    return { url: (JSON.parse(line) as { url: string }).url, child }
  }

  it('an MCP session and its login started in one process are served, and ended, by the other', async () => {
    const remote = await spawnHttpServer()
    const local = await startTestServer(createTestApp({ store }))
    cleanups.push(() => local.close())

    const agent = await connectClient(`${remote.url}/mcp`)
    cleanups.push(() => agent.close())
    const token = tokenOf(await agent.call('login', ALICE))
    const sessionId = agent.transport.sessionId!

    const elsewhere = await connectClient(local.mcpUrl, { sessionId })
    cleanups.push(() => elsewhere.close())
    expect((await elsewhere.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })

    await elsewhere.transport.terminateSession()
    const status = await agent.call('getPublicData').then(
      () => 200,
      (error: unknown) => (error instanceof StreamableHTTPError ? error.code : -1),
    )
    expect(status).toBe(404)
    expect(await sessions.loadByToken(token)).toBeUndefined()
  })
})
