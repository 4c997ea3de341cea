import { hostname } from 'node:os'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterEach, beforeAll, expect, it } from 'vitest'
import {
  ADMIN,
  BROWSER_LABEL,
  expectEnded,
  handlesByKind,
  kindOf,
  listWithCookie,
  MCP_CLIENT,
  PHONE_LABEL,
  type Placement,
  SESSION_KINDS,
  type SessionKind,
  type SignedIn,
  signInEverywhere,
  stillSignedIn,
  withCookie,
} from './signed-in-everywhere.test-support.js'

// The black-box cases of "where you're signed in", run against one demo process and against two
// processes sharing Redis, then PostgreSQL. `servers()` gives where each client signs in and the
// server the user manages their sessions from (in the two-process runs, another one than some of
// the clients', so every effect crosses processes through the store).

export interface Servers {
  readonly placement: Placement
  /** Where the user lists and revokes (with the cookie). */
  readonly manage: string
}

async function adminCookie(base: string): Promise<string> {
  const response = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })
  expect(response.status).toBe(200)
  return response.headers.getSetCookie()[0]!.split(';', 1)[0]!
}

async function revoke(base: string, cookie: string, handle: string): Promise<Response> {
  return withCookie(base, cookie, 'DELETE', `/sessions/${encodeURIComponent(handle)}`)
}

// Each case spawns several CLI processes: generous timeouts for a loaded machine.
export function signedInEverywhereCases(servers: () => Servers): void {
  let signedIn: SignedIn | undefined
  let admin: string

  beforeAll(async () => {
    admin = await adminCookie(servers().manage)
  })

  afterEach(async () => {
    await signedIn?.close()
    signedIn = undefined
    // Whatever a case left signed in ends here, so the next case lists only its own sessions.
    const cleanup = await withCookie(servers().manage, admin, 'POST', `/admin/users/user-alice/revoke-sessions`)
    expect(cleanup.status).toBe(200)
  })

  it('GET /sessions lists the five sessions with their protocol, credential and client; this one is current', async () => {
    const { placement, manage } = servers()
    signedIn = await signInEverywhere(placement)
    const sessions = await listWithCookie(manage, signedIn.cookie)
    expect(sessions).toHaveLength(5)
    const byKind = Object.fromEntries(sessions.map((session) => [kindOf(session), session]))
    expect(byKind['cookie']).toMatchObject({ protocol: 'http', credential: 'cookie', current: true, client: BROWSER_LABEL })
    expect(byKind['bearer']).toMatchObject({ protocol: 'http', credential: 'bearer', current: false, client: PHONE_LABEL })
    expect(byKind['socket']).toMatchObject({ protocol: 'channel', credential: 'in-band', current: false })
    expect(byKind['cli']).toMatchObject({ protocol: 'cli', credential: 'bearer', current: false, client: `cli@${hostname()}` })
    expect(byKind['mcp']).toMatchObject({ protocol: 'mcp', current: false, client: `${MCP_CLIENT.name}/${MCP_CLIENT.version}` })
    for (const session of sessions) {
      expect(session.ip).toBe('127.0.0.1')
      expect(Date.parse(session.createdAt)).toBeGreaterThan(Date.now() - 120_000)
      expect(Date.parse(session.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(session.createdAt))
      // A handle is a name, never a credential: no token appears in it, and it does not sign in.
      expect(session.handle).not.toContain(signedIn.bearer)
      const asBearer = await fetch(`${manage}/profile`, { headers: { authorization: `Bearer ${session.handle}` } })
      expect(asBearer.status).toBe(401)
    }
    // The same list on every protocol, each marking its own session as current.
    const overSocket = (await signedIn.socket.call('listSessions')).result as { handle: string; current: boolean }[]
    const overCLI = JSON.parse((await signedIn.cli(['sessions', '--json'])).stdout) as { sessions: { handle: string; current: boolean }[] }
    // A list is no object: MCP carries it as the text content (JSON), without structuredContent.
    const mcpList = (await signedIn.mcp.client.callTool({ name: 'listSessions', arguments: {} })) as CallToolResult
    const overMCP = JSON.parse((mcpList.content[0] as { text: string }).text) as { handle: string; current: boolean }[]
    const handles = handlesByKind(sessions)
    const currentOf = (list: readonly { handle: string; current: boolean }[]): string | undefined => list.find((session) => session.current)?.handle
    expect(currentOf(overSocket)).toBe(handles.socket)
    expect(currentOf(overCLI.sessions)).toBe(handles.cli)
    expect(currentOf(overMCP)).toBe(handles.mcp)
  }, 90_000)

  it('revoking each session ends only that one, on its own protocol, within 1 s', async () => {
    const { placement, manage } = servers()
    signedIn = await signInEverywhere(placement)
    const handles = handlesByKind(await listWithCookie(manage, signedIn.cookie))
    const live = new Set<SessionKind>(SESSION_KINDS)
    // The other four first, from the cookie session; then the cookie session signs itself out.
    for (const kind of ['bearer', 'socket', 'cli', 'mcp', 'cookie'] as const) {
      const response = await revoke(manage, signedIn.cookie, handles[kind])
      const revokedAt = Date.now()
      expect(response.status, `DELETE /sessions/<${kind}>`).toBe(200)
      expect(await response.json()).toEqual({ success: true })
      live.delete(kind)
      await expectEnded(signedIn, kind, revokedAt)
      for (const other of live) expect(await stillSignedIn(signedIn, other), `${other} after revoking ${kind}`).toBe(true)
      if (kind !== 'cookie') expect((await listWithCookie(manage, signedIn.cookie)).map((session) => session.handle).sort()).toEqual([...live].map((k) => handles[k]).sort())
    }
  }, 90_000)

  it('revoke-others leaves only the current session', async () => {
    const { placement, manage } = servers()
    signedIn = await signInEverywhere(placement)
    const handles = handlesByKind(await listWithCookie(manage, signedIn.cookie))
    const response = await withCookie(manage, signedIn.cookie, 'POST', '/sessions/revoke-others')
    const revokedAt = Date.now()
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ revoked: 4 })
    for (const kind of ['bearer', 'socket', 'cli', 'mcp'] as const) await expectEnded(signedIn, kind, revokedAt)
    expect(await listWithCookie(manage, signedIn.cookie)).toEqual([expect.objectContaining({ handle: handles.cookie, current: true })])
    expect(await stillSignedIn(signedIn, 'cookie')).toBe(true)
  }, 90_000)

  it("another user's session handle gets 404 and stays signed in; only an admin revokes another user's sessions", async () => {
    const { placement, manage } = servers()
    signedIn = await signInEverywhere(placement)
    const handles = handlesByKind(await listWithCookie(manage, signedIn.cookie))

    // The admin is another user here: alice's handle is not one of the admin's sessions.
    const foreign = await revoke(manage, admin, handles.bearer)
    expect(foreign.status).toBe(404)
    expect(await stillSignedIn(signedIn, 'bearer')).toBe(true)
    // A handle that never existed gets the same answer.
    expect((await revoke(manage, signedIn.cookie, 'AAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404)

    // Alice is no admin: the admin route is forbidden to her, and nothing ends.
    const forbidden = await withCookie(manage, signedIn.cookie, 'POST', '/admin/users/user-admin/revoke-sessions')
    expect(forbidden.status).toBe(403)
    expect((await withCookie(manage, admin, 'GET', '/profile')).status).toBe(200)

    // The admin ends all five of alice's sessions, each on its protocol.
    const byAdmin = await withCookie(manage, admin, 'POST', '/admin/users/user-alice/revoke-sessions')
    const revokedAt = Date.now()
    expect(byAdmin.status).toBe(200)
    expect(await byAdmin.json()).toEqual({ revoked: 5 })
    for (const kind of SESSION_KINDS) await expectEnded(signedIn, kind, revokedAt)
    expect((await withCookie(manage, admin, 'GET', '/profile')).status).toBe(200)
  }, 90_000)

  it('the session functions answer over WebSocket, the CLI and MCP as over HTTP', async () => {
    const { placement, manage } = servers()
    signedIn = await signInEverywhere(placement)
    const handles = handlesByKind(await listWithCookie(manage, signedIn.cookie))

    // The CLI's table: a header, one row per session, its own marked with *.
    const table = await signedIn.cli(['sessions'])
    expect(table.code).toBe(0)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^\s*HANDLE\s+CLIENT\s+VIA\s+ADDRESS\s+SIGNED IN \(UTC\)\s+LAST ACTIVE \(UTC\)$/)
    expect(lines.filter((line) => line.startsWith('*  '))).toEqual([expect.stringContaining(handles.cli)])
    expect(lines.at(-1)).toBe('* this session')
    for (const handle of Object.values(handles)) expect(table.stdout).toContain(handle)

    // The socket signs out the bearer session; MCP signs out the socket's; the CLI signs out MCP's.
    expect((await signedIn.socket.call('revokeSession', { handle: handles.bearer })).result).toEqual({ success: true })
    await expectEnded(signedIn, 'bearer', Date.now())
    const byMCP = await signedIn.mcp.client.callTool({ name: 'revokeSession', arguments: { handle: handles.socket } })
    expect(byMCP.isError).toBeFalsy()
    await expectEnded(signedIn, 'socket', Date.now())
    const byCLI = await signedIn.cli(['sessions', 'revoke', handles.mcp])
    expect(byCLI.code, byCLI.stderr).toBe(0)
    await expectEnded(signedIn, 'mcp', Date.now())
    const unknown = await signedIn.cli(['sessions', 'revoke', handles.mcp])
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toContain('No live session of yours has this handle')

    // The CLI signs out everywhere else: only its own session is left.
    const others = await signedIn.cli(['sessions', 'revoke-others'])
    expect(others).toMatchObject({ code: 0, stdout: 'Signed out 1 other session.\n' })
    await expectEnded(signedIn, 'cookie', Date.now())
    const left = JSON.parse((await signedIn.cli(['sessions', '--json'])).stdout) as { sessions: { handle: string; current: boolean }[] }
    expect(left.sessions).toEqual([expect.objectContaining({ handle: handles.cli, current: true })])
  }, 90_000)
}
