import { JSON_RPC_CODE } from '@pikku/mcp-session'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { type CallToolResult, McpError } from '@modelcontextprotocol/sdk/types.js'
import { createFileCredentialStore } from '@pikku/cli-session'
import { silentLogger } from '@pikku/core'
import { createSqliteStore } from '@pikku/session-store-sqlite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp, type DemoApp } from './app.js'
import { ADMIN, ALICE, TEST_SECRET } from './demo-harness.test-support.js'
import type { UserSession } from './types.js'

// The stdio entry as an agent runs it: a separate process started by the SDK's StdioClientTransport,
// sharing a SQLite session file with this process (which plays the CLI and the HTTP server).

const demoDir = fileURLToPath(new URL('..', import.meta.url))
const buildDir = join(demoDir, 'node_modules', '.cache', 'mcp-stdio-test')
let home: string
let database: string
let app: DemoApp
const clients: Client[] = []

beforeAll(async () => {
  // Compile the demo as `pnpm build` would, into a scratch directory inside the package so its
  // dependencies resolve.
  await promisify(execFile)(process.execPath, [join(demoDir, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--outDir', buildDir], {
    cwd: demoDir,
  })
  home = mkdtempSync(join(tmpdir(), 'pikku-demo-mcp-'))
  database = join(home, 'sessions.db')
  app = createDemoApp({ secrets: [TEST_SECRET], store: createSqliteStore<UserSession>({ path: database, sweepInterval: 0 }), logger: silentLogger })
}, 120_000)

afterAll(async () => {
  await app?.close()
  if (home !== undefined) rmSync(home, { recursive: true, force: true })
})

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close().catch(() => undefined)
})

async function stdioAgent(env: Record<string, string> = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(buildDir, 'mcp-stdio.js')],
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      DATA_DIR: home,
      SESSION_STORE: 'sqlite',
      SESSION_SECRETS: TEST_SECRET,
      ...env,
    },
    stderr: 'pipe',
  })
  const client = new Client({ name: 'demo-stdio-agent', version: '0.0.1' })
  await client.connect(transport)
  clients.push(client)
  return client
}

/** A login as the CLI's local mode makes one: an opaque session token in the shared store. */
async function localLogin(): Promise<string> {
  const state = app.sessions.createState()
  await state.set({ userId: 'user-alice', email: ALICE.email, role: 'user', permissions: ['profile:read', 'preferences:write'] })
  const result = await app.sessions.commit(state)
  if (result.kind !== 'created') throw new Error(`expected a new session; got ${result.kind}`)
  return result.token
}

const call = async (client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> =>
  (await client.callTool({ name, arguments: args })) as CallToolResult

async function rpcCode(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise
  } catch (error) {
    if (error instanceof McpError) return error.code
    throw error
  }
  return undefined
}

describe('the demo over MCP stdio', () => {
  it('serves the same tools as /mcp; anonymous until the login tool is called', async () => {
    const agent = await stdioAgent()
    expect((await agent.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['getPublicData', 'login'])
    expect(await rpcCode(call(agent, 'getProfile'))).toBe(JSON_RPC_CODE.UNAUTHORIZED)
    await call(agent, 'login', ALICE)
    // The five functions and the three session tools; not the admin's revokeUserSessions.
    expect((await agent.listTools()).tools).toHaveLength(8)
    expect((await call(agent, 'getProfile')).structuredContent).toMatchObject({ id: 'user-alice' })
  })

  it('acts as the user whose token is in PIKKU_DEMO_TOKEN', async () => {
    const agent = await stdioAgent({ PIKKU_DEMO_TOKEN: await localLogin() })
    expect((await call(agent, 'getProfile')).structuredContent).toMatchObject({ id: 'user-alice' })
  })

  it("acts as the user of the CLI's stored local login, and stops when it is revoked", async () => {
    const token = await localLogin()
    const credentials = createFileCredentialStore({ directory: join(home, 'config', 'pikku-demo') })
    await credentials.save('default', { origin: 'local', token, savedAt: Date.now() })
    const agent = await stdioAgent()
    expect((await call(agent, 'getProfile')).structuredContent).toMatchObject({ id: 'user-alice' })

    await app.sessions.revokeUser('user-alice')
    expect(await rpcCode(call(agent, 'getProfile'))).toBe(JSON_RPC_CODE.UNAUTHORIZED)
    await credentials.remove('default')
  })

  it('acts as the user who ran `pikku-demo login`, until `pikku-demo logout`', async () => {
    // No D-Bus session (never the user's keychain): the file keeps the token, as the setting allows.
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: '', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), DATA_DIR: home, SESSION_SECRETS: TEST_SECRET, PIKKU_DEMO_INSECURE_STORAGE: '1' }
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [join(buildDir, 'cli.js'), ...args], { env, cwd: home })
    await cli('login', '--email', ADMIN.email, '--password', ADMIN.password)
    const agent = await stdioAgent()
    expect((await call(agent, 'getProfile')).structuredContent).toMatchObject({ id: 'user-admin' })
    await cli('logout')
    expect(await rpcCode(call(agent, 'getProfile'))).toBe(JSON_RPC_CODE.UNAUTHORIZED)
  })

  it('never uses a stored credential that was issued for a remote server', async () => {
    const credentials = createFileCredentialStore({ directory: join(home, 'config', 'pikku-demo') })
    await credentials.save('default', { origin: 'http://127.0.0.1:3000', token: await localLogin(), savedAt: Date.now() })
    const agent = await stdioAgent()
    expect(await rpcCode(call(agent, 'getProfile'))).toBe(JSON_RPC_CODE.UNAUTHORIZED)
    await credentials.remove('default')
  })
})
