import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { type CallToolResult, McpError } from '@modelcontextprotocol/sdk/types.js'
import {
  type CoreUserSession,
  createMemoryStore,
  createRunner,
  createSessionManager,
  NotFoundError,
  type PikkuMiddleware,
  pikkuFunc,
  pikkuPermission,
  type PermissionSpec,
  pikkuSessionlessFunc,
  type Runner,
  type SessionAuthenticator,
  type SessionManager,
  type SessionStore,
  silentLogger,
  UnauthorizedError,
} from '@pikku/core'
import { type SessionState } from '@pikku/core/protocol'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { API_KEY_PREFIX, type ApiKeyGrant, createApiKeyAuthenticator } from '@pikku/credential-testkit/api-key-authenticator'
import { createHTTPHandler, toNodeListener } from '@pikku/http'
import { afterEach } from 'vitest'
import { z } from 'zod'
import { createMCPHTTPHandler, type MCPHTTPHandler } from './http-handler.js'
import type { MCPHTTPHandlerOptions } from './options.js'
import { type MCPTools, wireMCP } from './tools.js'

// A small app in the shape of the documentation's examples, for the MCP tests.

export interface TestSession extends CoreUserSession {
  name: string
  role: 'user' | 'admin'
}

const USERS: Record<string, { id: string; password: string; name: string; role: 'user' | 'admin' }> = {
  'alice@example.com': { id: 'u-alice', password: 'alice-password', name: 'Alice', role: 'user' },
  'bob@example.com': { id: 'u-bob', password: 'bob-password', name: 'Bob', role: 'user' },
  'root@example.com': { id: 'u-root', password: 'root-password', name: 'Root', role: 'admin' },
}

interface TestServices {
  /** A token for the session of this call: by default the opaque token a login minted. */
  sessionToken(): Promise<string | undefined>
}

/** A promise tests resolve by hand, for a tool call held in flight. */
export interface Gate {
  wait(): Promise<void>
  open(): void
  readonly waiting: number
}

function createGate(): Gate {
  let release: () => void = () => {}
  let promise = new Promise<void>((resolve) => (release = resolve))
  let waiting = 0
  return {
    async wait() {
      waiting++
      await promise
    },
    open() {
      release()
      promise = new Promise<void>((resolve) => (release = resolve))
    },
    get waiting() {
      return waiting
    },
  }
}

const isAdmin = pikkuPermission(async (_services, _data, wire) => ((await wire.session.get()) as TestSession | undefined)?.role === 'admin')

export function createTestFunctions(gate: Gate) {
  const login = pikkuSessionlessFunc<{ email: string; password: string }, { token: string; user: { id: string; name: string } }>({
    name: 'login',
    input: z.object({ email: z.string().email(), password: z.string().min(1) }),
    func: async (services, data, { session }) => {
      const user = USERS[data.email]
      if (user === undefined || user.password !== data.password) throw new UnauthorizedError('Invalid credentials')
      await session.set({ userId: user.id, name: user.name, role: user.role } as TestSession)
      const token = await (services as TestServices).sessionToken()
      if (token === undefined) throw new Error('login did not start a session')
      return { token, user: { id: user.id, name: user.name } }
    },
    docs: { summary: 'Authenticate a user', description: 'Starts a session for an email and password.' },
  })
  const logout = pikkuFunc<void, { success: boolean }>({
    name: 'logout',
    func: async (_services, _data, { session }) => {
      await session.clear()
      return { success: true }
    },
    docs: { summary: 'Logout user' },
  })
  const getProfile = pikkuFunc<void, TestSession>({
    name: 'getProfile',
    func: async (_services, _data, { session }) => (await session.get()) as TestSession,
    docs: { summary: 'Get current user profile' },
  })
  const getPublicData = pikkuSessionlessFunc<void, { greeting: string }>({
    name: 'getPublicData',
    func: async (_services, _data, { session }) => {
      const user = (await session.get()) as TestSession | undefined
      return { greeting: user === undefined ? 'hello stranger' : `hello ${user.name}` }
    },
    docs: { summary: 'Get public data (personalized if logged in)' },
  })
  const adminReport = pikkuFunc<void, { secret: number }>({
    name: 'adminReport',
    permissions: isAdmin,
    func: async () => ({ secret: 42 }),
    docs: { summary: 'Numbers only admins see' },
  })
  const shout = pikkuSessionlessFunc<string, string>({
    input: z.string().max(20),
    func: async (_services, data) => data.toUpperCase(),
    docs: { summary: 'Shouts its input back' },
  })
  const slow = pikkuSessionlessFunc<void, { done: true }>({
    func: async () => {
      await gate.wait()
      return { done: true }
    },
  })
  const broken = pikkuSessionlessFunc<void, never>({
    func: async () => {
      throw new Error('database password is hunter2')
    },
  })
  const missing = pikkuSessionlessFunc<void, never>({
    func: async () => {
      throw new NotFoundError('No such report')
    },
  })
  // A guard that needs the input: it cannot be decided while listing, so the tool stays listed.
  const readDocument = pikkuFunc<{ ownerId: string }, { ownerId: string; text: string }>({
    name: 'readDocument',
    input: z.object({ ownerId: z.string() }),
    permissions: async (_services, data, wire) => data.ownerId === (await wire.session.get())?.userId,
    func: async (_services, data) => ({ ownerId: data.ownerId, text: 'private notes' }),
    docs: { summary: "Reads one of the caller's own documents" },
  })
  return { login, logout, getProfile, getPublicData, adminReport, shout, slow, broken, missing, readDocument }
}

export interface TestApp {
  readonly runner: Runner
  readonly sessions: SessionManager
  readonly store: SessionStore
  readonly clock: TestClock
  readonly mcp: MCPTools
  readonly gate: Gate
}

export interface TestAppOptions {
  clock?: TestClock
  store?: SessionStore
  /** What the login tool hands out as its token. @default the opaque session token */
  issueToken?: (session: SessionState) => Promise<string | undefined>
  /** The runner's global permissions. */
  permissions?: PermissionSpec<unknown>
  /** The runner's global middleware (tests read the wire of calls with it). */
  middleware?: PikkuMiddleware[]
}

export function createTestApp(options: TestAppOptions = {}): TestApp {
  const clock = options.clock ?? createTestClock()
  const store = options.store ?? createMemoryStore({ clock: clock.now, sweepInterval: 0 })
  const sessions = createSessionManager({ store, clock: clock.now })
  const gate = createGate()
  const runner = createRunner({
    services: {},
    logger: silentLogger,
    ...(options.permissions === undefined ? {} : { permissions: options.permissions }),
    ...(options.middleware === undefined ? {} : { middleware: options.middleware }),
    wireServices: (_services, wire) =>
      ({ sessionToken: async () => (options.issueToken === undefined ? wire.session.pending?.token : options.issueToken(wire.session)) }) as Partial<object>,
  })
  const mcp = wireMCP({ tools: createTestFunctions(gate), name: 'pikku-test', version: '1.2.3' })
  return { runner, sessions, store, clock, mcp, gate }
}

export interface TestServer {
  readonly url: string
  readonly mcpUrl: string
  readonly handler: MCPHTTPHandler
  readonly server: Server
  close(): Promise<void>
}

export async function startTestServer(app: TestApp, options: Partial<MCPHTTPHandlerOptions> = {}): Promise<TestServer> {
  const handler = createMCPHTTPHandler({
    mcp: app.mcp,
    runner: app.runner,
    sessions: app.sessions,
    ...options,
    // No sweep timer unless a test asks for one: tests call sweep() with a test clock.
    ...(options.sweepInterval === undefined ? { session: { sweepInterval: 0, ...options.session } } : {}),
  })
  const server = createServer((req, res) => {
    handler.handle(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404, { 'content-type': 'text/plain' })
        res.end('not found')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    mcpUrl: `${url}/mcp`,
    handler,
    server,
    async close() {
      await handler.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The same functions over plain HTTP (`POST /rpc/<tool name>`), to compare answers with MCP's. */
export async function startHTTPServer(app: TestApp): Promise<{ url: string; close(): Promise<void> }> {
  const functions = Object.fromEntries([...app.mcp.tools].map(([name, tool]) => [name, tool.func]))
  const server = createServer(toNodeListener(createHTTPHandler({ runner: app.runner, routes: [], rpc: { path: '/rpc', functions } })))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export interface TestClient {
  readonly client: Client
  readonly transport: StreamableHTTPClientTransport
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>
  toolNames(): Promise<string[]>
  close(): Promise<void>
}

/** The SDK's own client over Streamable HTTP; `sessionId` resumes an existing MCP session. */
export async function connectClient(
  mcpUrl: string,
  options: { token?: string; sessionId?: string; headers?: Record<string, string> } = {},
): Promise<TestClient> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers },
    ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
  })
  const client = new Client({ name: 'pikku-test-client', version: '0.0.1' })
  await client.connect(transport)
  return {
    client,
    transport,
    call: async (name, args) => (await client.callTool({ name, arguments: args ?? {} })) as CallToolResult,
    toolNames: async () => (await client.listTools()).tools.map((tool) => tool.name).sort(),
    close: () => client.close(),
  }
}

/** A raw POST to the MCP endpoint, for what the SDK client would never send. */
export function rawPost(mcpUrl: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...headers,
    },
    body,
  })
}

/** Fixed API keys of the test app (a spawned stdio server knows them too), each for a fixed session no store backs. */
const fixedKey = (name: string): string => `${API_KEY_PREFIX}${name.padEnd(43, '0')}`
export const CI_KEY = fixedKey('ci_')
export const OPS_KEY = fixedKey('ops_')
/** Shaped as a key, but no key of the test app. */
export const UNKNOWN_KEY = fixedKey('unknown_')
const API_KEYS = new Map<string, ApiKeyGrant>([
  [CI_KEY, { session: { userId: 'u-ci-bot', name: 'CI bot', role: 'user' } as TestSession }],
  [OPS_KEY, { session: { userId: 'u-ops-bot', name: 'Ops bot', role: 'admin' } as TestSession }],
])

/**
 * The repository's API-key authenticator (`@pikku/credential-testkit`) with the test app's keys: a
 * transient session per key. Anything else is no credential of this kind, so it combines with other
 * authenticators through `firstAuthenticated`.
 */
export function apiKeyAuthenticator(): SessionAuthenticator {
  return createApiKeyAuthenticator({ keys: API_KEYS })
}

export const ALICE = { email: 'alice@example.com', password: 'alice-password' }
export const BOB = { email: 'bob@example.com', password: 'bob-password' }
export const ROOT = { email: 'root@example.com', password: 'root-password' }

/** The token the login tool returned. */
export function tokenOf(result: CallToolResult): string {
  const token = (result.structuredContent as { token?: unknown } | undefined)?.token
  if (typeof token !== 'string') throw new Error(`login returned no token: ${JSON.stringify(result)}`)
  return token
}

/** The HTTP status of a request the SDK client made that failed at the HTTP level. */
export async function httpStatusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise
  } catch (error) {
    if (error instanceof StreamableHTTPError) return error.code
    throw error
  }
  throw new Error('expected the request to fail')
}

/** The JSON-RPC error a request the SDK client made was answered with. */
export async function rpcErrorOf(promise: Promise<unknown>): Promise<McpError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof McpError) return error
    throw error
  }
  throw new Error('expected a JSON-RPC error')
}

/** A request with headers fetch cannot set (Host), through node:http. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** An initialize request body, as a client that says who it is sends one. */
export function initializeBody(clientInfo: unknown = { name: 'raw-test', version: '1' }): string {
  return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo } })
}

/** The JSON-RPC message in a response body, whether it came as JSON or as one SSE event. */
export function jsonRpcOf(text: string): { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } } {
  const line = text.split('\n').find((candidate) => candidate.startsWith('data: '))
  return JSON.parse(line === undefined ? text : line.slice('data: '.length)) as ReturnType<typeof jsonRpcOf>
}

/**
 * Test servers and clients for one test file, all closed after each test (in reverse order).
 * Call at the top level of the file: it registers the `afterEach`.
 */
export function perTest(): {
  setup(options?: Partial<MCPHTTPHandlerOptions>, app?: TestApp): Promise<{ app: TestApp; server: TestServer }>
  client(mcpUrl: string, options?: Parameters<typeof connectClient>[1]): Promise<TestClient>
  defer(cleanup: () => Promise<unknown>): void
} {
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
  })
  return {
    async setup(options = {}, app = createTestApp()) {
      const server = await startTestServer(app, options)
      cleanups.push(() => server.close())
      return { app, server }
    },
    async client(mcpUrl, options = {}) {
      const connected = await connectClient(mcpUrl, options)
      cleanups.push(() => connected.close())
      return connected
    },
    defer(cleanup) {
      cleanups.push(cleanup)
    },
  }
}
