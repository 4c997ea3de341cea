import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { AuditRecord } from '@pikku/session-audit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDemoCLI } from './demo-cli.test-support.js'
import { startDemoProcess, type DemoProcess } from './demo-process.test-support.js'
import { ADMIN, ALICE, handlesByKind, listWithCookie, type SignedIn, signInEverywhere, withCookie } from './signed-in-everywhere.test-support.js'

// The demo's audit trail, black-box: one user signs in over HTTP (cookie and bearer token), a
// WebSocket, the CLI and MCP, signs out on each, signs in again and has each session revoked; the
// trail (DATA_DIR/audit.jsonl, and GET /admin/audit) must show every one of those events with
// its protocol and user, and nothing secret.

const SECRET = 'audit-trail-test-secret-0123456789abcdef'
const dataDir = mkdtempSync(join(tmpdir(), 'pikku-demo-audit-'))
const auditPath = join(dataDir, 'audit.jsonl')

/** Every record in the trail, oldest first (rotated files first). */
function trail(): AuditRecord[] {
  const files = readdirSync(dataDir)
    .filter((name) => name.startsWith('audit.jsonl'))
    .sort()
    .reverse()
  return files.flatMap((name) =>
    readFileSync(join(dataDir, name), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as AuditRecord),
  )
}

/** The whole trail as text, rotated files included. */
const trailText = (): string => readdirSync(dataDir).filter((name) => name.startsWith('audit.jsonl')).map((name) => readFileSync(join(dataDir, name), 'utf8')).join('')

/** Waits (up to 3 s) until the trail holds `count` records of `type` for alice; returns them. */
async function aliceEvents(type: AuditRecord['type'], count: number, since: number): Promise<AuditRecord[]> {
  const deadline = Date.now() + 3_000
  for (;;) {
    const found = trail()
      .slice(since)
      .filter((record) => record.type === type && record.userId === 'user-alice')
    if (found.length >= count || Date.now() > deadline) return found
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

// `createdProtocol` is the protocol each session was created on; `protocol` the one of the call that acted.
const protocolsOf = (records: readonly AuditRecord[]): string[] => records.map((record) => record.createdProtocol ?? 'none').sort()
const callProtocolsOf = (records: readonly AuditRecord[]): string[] => records.map((record) => record.protocol ?? 'none').sort()
// Both HTTP logins are cookie logins (the phone app keeps the token from the body); they differ by client label.
const FIVE_PROTOCOLS = ['channel', 'cli', 'http', 'http', 'mcp']

async function login(base: string, credentials: { email: string; password: string }): Promise<string> {
  const response = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify(credentials) })
  expect(response.status).toBe(200)
  return response.headers.getSetCookie()[0]!.split(';', 1)[0]!
}

describe('the demo audit trail', () => {
  let demo: DemoProcess
  const rounds: SignedIn[] = []
  // Every credential the test saw, for the last case's search.
  const secrets = new Set<string>([ALICE.password, ADMIN.password, SECRET])

  beforeAll(async () => {
    demo = await startDemoProcess({ SESSION_SECRETS: SECRET }, { dataDir })
  }, 30_000)

  afterAll(async () => {
    for (const round of rounds) await round.close()
    await demo?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const remember = (signedIn: SignedIn): void => {
    rounds.push(signedIn)
    for (const secret of [signedIn.cookie.split('=', 2)[1]!, signedIn.bearer, signedIn.cliToken(), signedIn.mcp.sessionId]) secrets.add(secret)
  }

  it('records each login and each logout, on all five clients, with protocol and user', async () => {
    const start = trail().length
    const signedIn = await signInEverywhere({ cookie: demo.url, bearer: demo.url, socket: demo.url, cli: demo.url, mcp: demo.url })
    remember(signedIn)
    const logins = await aliceEvents('created', 5, start)
    expect(protocolsOf(logins)).toEqual(FIVE_PROTOCOLS)
    // The CLI talks to a server over HTTP (POST /rpc/login): its call is an HTTP request.
    expect(callProtocolsOf(logins)).toEqual(['channel', 'http', 'http', 'http', 'mcp'])

    // Each client signs out the way it does on its own protocol.
    expect((await withCookie(demo.url, signedIn.cookie, 'POST', '/logout')).status).toBe(200)
    expect((await fetch(`${demo.url}/logout`, { method: 'POST', headers: { authorization: `Bearer ${signedIn.bearer}` } })).status).toBe(200)
    expect((await signedIn.socket.call('logout')).error).toBeUndefined()
    expect((await signedIn.cli(['logout'])).code).toBe(0)
    expect(((await signedIn.mcp.client.callTool({ name: 'logout', arguments: {} })) as CallToolResult).isError).toBeFalsy()

    const logouts = await aliceEvents('cleared', 5, start)
    expect(protocolsOf(logouts)).toEqual(protocolsOf(logins))
    expect(callProtocolsOf(logouts)).toEqual(callProtocolsOf(logins))
    // Each logout names the session its login started.
    expect(logouts.map((record) => record.handle).sort()).toEqual(logins.map((record) => record.handle).sort())
    for (const record of [...logins, ...logouts]) expect(Date.parse(record.at)).toBeGreaterThan(Date.now() - 60_000)
  }, 60_000)

  it('records each revocation with who revoked it: by the user, by revoke-others, by an admin', async () => {
    const start = trail().length
    const signedIn = await signInEverywhere({ cookie: demo.url, bearer: demo.url, socket: demo.url, cli: demo.url, mcp: demo.url })
    remember(signedIn)
    const handles = handlesByKind(await listWithCookie(demo.url, signedIn.cookie))

    expect((await withCookie(demo.url, signedIn.cookie, 'DELETE', `/sessions/${encodeURIComponent(handles.bearer)}`)).status).toBe(200)
    expect((await withCookie(demo.url, signedIn.cookie, 'POST', '/sessions/revoke-others')).status).toBe(200)
    const admin = await login(demo.url, ADMIN)
    secrets.add(admin.split('=', 2)[1]!)
    expect((await withCookie(demo.url, admin, 'POST', '/admin/users/user-alice/revoke-sessions')).status).toBe(200)

    const revoked = await aliceEvents('revoked', 5, start)
    expect(protocolsOf(revoked)).toEqual(FIVE_PROTOCOLS)
    // Every revocation was made over HTTP, whatever protocol the session it ended was created on.
    expect(callProtocolsOf(revoked)).toEqual(['http', 'http', 'http', 'http', 'http'])
    const byHandle = new Map(revoked.map((record) => [record.handle, record]))
    expect(byHandle.get(handles.bearer)).toMatchObject({ by: 'user-alice' })
    for (const kind of ['socket', 'cli', 'mcp'] as const) expect(byHandle.get(handles[kind])).toMatchObject({ by: 'user-alice' })
    expect(byHandle.get(handles.cookie)).toMatchObject({ by: 'admin:user-admin', reason: 'admin' })
    for (const record of revoked) expect(typeof record.reason).toBe('string')
  }, 60_000)

  it('records the logins and logouts of local CLI commands in the same file as the server', async () => {
    const start = trail().length
    const home = mkdtempSync(join(tmpdir(), 'pikku-demo-audit-cli-'))
    // Local mode: the CLI process runs the functions itself, on the server's data folder.
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), DATA_DIR: dataDir, PIKKU_DEMO_INSECURE_STORAGE: '1' }
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
    try {
      const loggedIn = await runDemoCLI(cli, ['login', '--email', ALICE.email, '--password', ALICE.password], env)
      expect(loggedIn, loggedIn.stderr).toMatchObject({ code: 0 })
      const saved = JSON.parse(readFileSync(join(home, 'config', 'pikku-demo', 'credentials.default.json'), 'utf8')) as { token: string }
      secrets.add(saved.token)
      expect((await runDemoCLI(cli, ['logout'], env)).code).toBe(0)
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
    const [created] = await aliceEvents('created', 1, start)
    const [cleared] = await aliceEvents('cleared', 1, start)
    expect(created).toMatchObject({ protocol: 'cli', createdProtocol: 'cli', userId: 'user-alice' })
    expect(cleared).toMatchObject({ protocol: 'cli', createdProtocol: 'cli', handle: created!.handle })
  }, 60_000)

  it('serves the last events to admins at GET /admin/audit, newest first; 403 for other users, 401 without a session', async () => {
    const before = trail().length
    const admin = await login(demo.url, ADMIN)
    secrets.add(admin.split('=', 2)[1]!)
    // The event is written after the login's response: wait until the file has it.
    const deadline = Date.now() + 3_000
    while (!trail().slice(before).some((record) => record.userId === 'user-admin') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25))
    const response = await withCookie(demo.url, admin, 'GET', '/admin/audit')
    expect(response.status).toBe(200)
    const events = (await response.json()) as AuditRecord[]
    const written = trail()
    expect(events.length).toBe(Math.min(100, written.length))
    // The newest first: the admin's own login just now, then what the file holds before it.
    expect(events[0]).toMatchObject({ type: 'created', userId: 'user-admin', protocol: 'http' })
    expect(events).toEqual(written.slice(-events.length).reverse())

    const alice = await login(demo.url, ALICE)
    secrets.add(alice.split('=', 2)[1]!)
    expect((await withCookie(demo.url, alice, 'GET', '/admin/audit')).status).toBe(403)
    expect((await fetch(`${demo.url}/admin/audit`)).status).toBe(401)
  }, 30_000)

  it('records a refused credential with its kind and reason, and not the credential', async () => {
    const start = trail().length
    // A token of the right shape whose signature no key of the demo made.
    const forged = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"user-alice"}').toString('base64url')}.forged-signature-0123456789`
    secrets.add(forged)
    const response = await fetch(`${demo.url}/profile`, { headers: { authorization: `Bearer ${forged}` } })
    expect(response.status).toBe(401)
    const deadline = Date.now() + 3_000
    let refused: AuditRecord[] = []
    while (refused.length === 0 && Date.now() < deadline) {
      refused = trail().slice(start).filter((record) => record.type === 'refused')
      if (refused.length === 0) await new Promise((resolve) => setTimeout(resolve, 25))
    }
    expect(refused).toHaveLength(1)
    expect(refused[0]).toMatchObject({ protocol: 'http', credential: 'bearer' })
    expect(typeof refused[0]!.reason).toBe('string')
    expect(refused[0]!.userId).toBeUndefined()
  })

  it('holds no token, password, secret or session id anywhere in the file', async () => {
    const text = trailText()
    expect(text.length).toBeGreaterThan(0)
    expect(readFileSync(auditPath, 'utf8').length).toBeGreaterThan(0)
    expect(secrets.size).toBeGreaterThan(10)
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8)
      expect(text.includes(secret), `the audit trail contains a secret: ${secret.slice(0, 6)}…`).toBe(false)
    }
    // Nothing from session data either: no email, role or permission field.
    expect(text).not.toContain('alice@example.com')
    expect(text).not.toContain('permissions')
  })
})
