import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { connectTestClient, type TestChannelClient } from '@pikku/channel/testing'
import { expect } from 'vitest'
import { type CLIResult, runDemoCLI } from './demo-cli.test-support.js'
import type { SignedInSession } from './session-functions.js'

// One user signed in five ways against running demo servers (one process or several sharing a
// store): a browser with a cookie, a phone app with a bearer token, a WebSocket that logged in
// over the socket, the CLI (`pikku-demo login --server`) and an MCP agent with the login tool.
// Then, for each, "is it still signed in?" and "did it end, on its own protocol?".

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

export const ALICE = { email: 'alice@example.com', password: 'alice-password' }
export const ADMIN = { email: 'admin@example.com', password: 'admin-password' }

/** What a desktop Chrome on Linux sends; the demo labels the cookie session from it. */
export const BROWSER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
/** A phone's browser engine, for the bearer-token client. */
export const PHONE_AGENT = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
/** The labels the demo records for those two (bowser's browser and OS names). */
export const BROWSER_LABEL = 'Chrome on Linux'
export const PHONE_LABEL = 'Safari on iOS'
export const MCP_CLIENT = { name: 'demo-test-agent', version: '0.4.2' }

export type SessionKind = 'cookie' | 'bearer' | 'socket' | 'cli' | 'mcp'
export const SESSION_KINDS: readonly SessionKind[] = ['cookie', 'bearer', 'socket', 'cli', 'mcp']

/** Which server each client talks to: all the same one, or spread over several sharing a store. */
export type Placement = Record<SessionKind, string>

export interface SignedIn {
  readonly placement: Placement
  readonly cookie: string
  readonly bearer: string
  readonly socket: TestChannelClient
  /** The CLI's environment: its own config directory, so its credentials file is the test's. */
  readonly cliEnv: Record<string, string>
  readonly mcp: { readonly client: Client; readonly transport: StreamableHTTPClientTransport; readonly sessionId: string }
  /** The CLI's saved bearer token, read from its credentials file. */
  cliToken(): string
  /** Runs `pikku-demo <args> --server <its server>`. */
  cli(args: readonly string[]): Promise<CLIResult>
  close(): Promise<void>
}

async function httpLogin(base: string, userAgent: string, credentials = ALICE): Promise<{ cookie: string; token: string }> {
  const response = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent, origin: base },
    body: JSON.stringify(credentials),
  })
  expect(response.status).toBe(200)
  const { token } = (await response.json()) as { token: string }
  const cookie = response.headers.getSetCookie()[0]!.split(';', 1)[0]!
  return { cookie, token }
}

/** Signs ALICE in five ways, each on the server `placement` names for it. */
export async function signInEverywhere(placement: Placement, credentials = ALICE): Promise<SignedIn> {
  const root = mkdtempSync(join(tmpdir(), 'pikku-demo-sessions-'))
  const cliEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'config'),
    DATA_DIR: join(root, 'data'),
    // No D-Bus session, so no keychain: the credentials file keeps the token, as this setting allows.
    PIKKU_DEMO_INSECURE_STORAGE: '1',
  }
  const cli = (args: readonly string[]): Promise<CLIResult> => runDemoCLI(CLI, [...args, '--server', placement.cli], cliEnv)

  // A browser keeps the cookie (and never sees the token again); a phone app keeps the token.
  const { cookie } = await httpLogin(placement.cookie, BROWSER_AGENT, credentials)
  const { token: bearer } = await httpLogin(placement.bearer, PHONE_AGENT, credentials)
  // The app's first request with its token: the login answered a cookie and a token, and this is
  // how the server learns that the phone keeps the token (its session is listed as `bearer` since).
  const firstUse = await fetch(`${placement.bearer}/profile`, { headers: { authorization: `Bearer ${bearer}`, 'user-agent': PHONE_AGENT } })
  expect(firstUse.status).toBe(200)
  await firstUse.arrayBuffer()

  // A WebSocket without a cookie, logged in over the socket itself.
  const socket = await connectTestClient(`${placement.socket.replace('http://', 'ws://')}/ws`, { origin: placement.socket })
  const socketLogin = await socket.call('login', credentials)
  expect(socketLogin.error).toBeUndefined()

  const cliLogin = await cli(['login', '--email', credentials.email, '--password', credentials.password])
  expect(cliLogin, cliLogin.stderr).toMatchObject({ code: 0 })

  const transport = new StreamableHTTPClientTransport(new URL(`${placement.mcp}/mcp`))
  const client = new Client(MCP_CLIENT)
  await client.connect(transport)
  const mcpLogin = (await client.callTool({ name: 'login', arguments: credentials })) as CallToolResult
  expect(mcpLogin.isError).toBeFalsy()

  return {
    placement,
    cookie,
    bearer,
    socket,
    cliEnv,
    mcp: { client, transport, sessionId: transport.sessionId! },
    cliToken: () => (JSON.parse(readFileSync(join(root, 'config', 'pikku-demo', 'credentials.default.json'), 'utf8')) as { token: string }).token,
    cli,
    async close() {
      await socket.close().catch(() => undefined)
      await client.close().catch(() => undefined)
      rmSync(root, { recursive: true, force: true })
    },
  }
}

/** `fetch` on `base` with the cookie session (and the Origin unsafe methods need). */
export function withCookie(base: string, cookie: string, method = 'GET', path = '/sessions'): Promise<Response> {
  return fetch(`${base}${path}`, { method, headers: { cookie, ...(method === 'GET' ? {} : { origin: base }) } })
}

/** `GET /sessions` with the cookie session: the list, which must be a 200. */
export async function listWithCookie(base: string, cookie: string): Promise<SignedInSession[]> {
  const response = await withCookie(base, cookie)
  expect(response.status).toBe(200)
  return (await response.json()) as SignedInSession[]
}

/**
 * Which of the five clients a listed session is. The two HTTP logins are told apart by their client
 * label (the phone's `User-Agent` names it); their credentials differ too once the phone has used
 * its token (both logins answer a cookie and a token, and are recorded as `cookie` until then).
 */
export function kindOf(session: SignedInSession): SessionKind | undefined {
  if (session.protocol === 'http') return session.client === BROWSER_LABEL ? 'cookie' : session.client === PHONE_LABEL ? 'bearer' : undefined
  if (session.protocol === 'channel') return 'socket'
  if (session.protocol === 'cli') return 'cli'
  if (session.protocol === 'mcp') return 'mcp'
  return undefined
}

/** The handle of each of the five sessions in a listing (which must hold each exactly once). */
export function handlesByKind(sessions: readonly SignedInSession[]): Record<SessionKind, string> {
  const handles: Partial<Record<SessionKind, string>> = {}
  for (const session of sessions) {
    const kind = kindOf(session)
    expect(kind, `an unexpected session in the listing: ${JSON.stringify(session)}`).toBeDefined()
    expect(handles[kind!], `two ${kind} sessions in the listing`).toBeUndefined()
    handles[kind!] = session.handle
  }
  expect(Object.keys(handles).sort()).toEqual([...SESSION_KINDS].sort())
  return handles as Record<SessionKind, string>
}

async function rawMCPCall(signedIn: SignedIn, name: string): Promise<Response> {
  return fetch(`${signedIn.placement.mcp}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': signedIn.mcp.sessionId,
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }),
  })
}

/** Whether the `kind` client is still signed in, asked the way that client asks. */
export async function stillSignedIn(signedIn: SignedIn, kind: SessionKind): Promise<boolean> {
  const { placement } = signedIn
  switch (kind) {
    case 'cookie': {
      const response = await withCookie(placement.cookie, signedIn.cookie, 'GET', '/profile')
      await response.arrayBuffer()
      return response.status === 200
    }
    case 'bearer': {
      const response = await fetch(`${placement.bearer}/profile`, { headers: { authorization: `Bearer ${signedIn.bearer}` } })
      await response.arrayBuffer()
      return response.status === 200
    }
    case 'socket':
      return (await signedIn.socket.call('getProfile')).error === undefined
    case 'cli':
      return (await signedIn.cli(['profile', '--json'])).code === 0
    case 'mcp': {
      const result = (await signedIn.mcp.client.callTool({ name: 'getProfile', arguments: {} }).catch(() => undefined)) as CallToolResult | undefined
      return result !== undefined && result.isError !== true
    }
  }
}

/** Polls `check` until it holds; fails unless it does within `ms` of `since`. */
export async function within(ms: number, since: number, what: string, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await check()) return
    if (Date.now() - since > ms) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/**
 * Asserts that the `kind` client's session ended on its own protocol within 1 s of `revokedAt`:
 * cookie and bearer get 401; the socket gets the `revoked` session event and then UNAUTHORIZED,
 * staying open; the CLI's token gets 401 and its next command exit 3 saying to log in again; MCP
 * gets 401 with the Bearer challenge.
 */
export async function expectEnded(signedIn: SignedIn, kind: SessionKind, revokedAt: number): Promise<void> {
  const { placement } = signedIn
  switch (kind) {
    case 'cookie':
      await within(1_000, revokedAt, 'the cookie gets 401', async () => (await withCookie(placement.cookie, signedIn.cookie, 'GET', '/profile')).status === 401)
      return
    case 'bearer':
      await within(1_000, revokedAt, 'the bearer token gets 401', async () => (await fetch(`${placement.bearer}/profile`, { headers: { authorization: `Bearer ${signedIn.bearer}` } })).status === 401)
      return
    case 'socket': {
      const event = await signedIn.socket.nextEvent('session', Math.max(1, 1_000 - (Date.now() - revokedAt)))
      expect(event.data).toEqual({ state: 'revoked' })
      expect((await signedIn.socket.call('getProfile')).error?.code).toBe('UNAUTHORIZED')
      expect(signedIn.socket.isOpen).toBe(true)
      return
    }
    case 'cli': {
      const token = signedIn.cliToken()
      await within(1_000, revokedAt, "the CLI's token gets 401", async () => (await fetch(`${placement.cli}/rpc/getProfile`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status === 401)
      const next = await signedIn.cli(['profile'])
      expect(next.code).toBe(3)
      expect(next.stderr).toContain('Your session has expired or was revoked.')
      expect(next.stderr).toContain('to sign in again')
      return
    }
    case 'mcp': {
      let last: Response | undefined
      await within(1_000, revokedAt, 'the MCP request gets 401', async () => {
        last = await rawMCPCall(signedIn, 'getProfile')
        return last.status === 401
      })
      expect(last!.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource"/)
      return
    }
  }
}
