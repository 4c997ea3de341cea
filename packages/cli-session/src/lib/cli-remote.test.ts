import { readFileSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createWorkspace, runCLI, type RunningServer, STACK_TRACE, startFixtureServer, stopServer, type Workspace } from './cli-process.test-support.js'
import { startRecorder } from './recording-server.test-support.js'

// Remote mode against a real server process: the fixture's functions on POST /rpc/<name> with a
// bearer-token session middleware, and the CLI spawned as its own process.

let server: RunningServer
let workspace: Workspace
beforeAll(async () => {
  server = await startFixtureServer()
})
afterAll(async () => {
  await stopServer(server)
})
beforeEach(() => {
  workspace = createWorkspace()
})
afterEach(() => {
  workspace.cleanup()
})

const remote = (args: string[], env?: Record<string, string>) => runCLI(workspace, [...args, '--server', server.url], env === undefined ? {} : { env })
const savedToken = (): string => (JSON.parse(readFileSync(workspace.credentialsFile(), 'utf8')) as { token: string }).token

async function rpc(name: string, token: string | undefined): Promise<number> {
  const response = await fetch(`${server.url}/rpc/${name}`, {
    method: 'POST',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  await response.arrayBuffer()
  return response.status
}

async function rpcLogin(email: string, password: string): Promise<string> {
  const response = await fetch(`${server.url}/rpc/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { token: string }).token
}

describe('remote mode', () => {
  it('login stores the server-issued token bound to that server; commands use it', async () => {
    const loggedIn = await remote(['login', 'alice@example.com', '--password', 'alice-password'])
    expect(loggedIn.code).toBe(0)
    expect(loggedIn.stderr).toContain(`Logged in to ${server.url}.`)
    const saved = JSON.parse(readFileSync(workspace.credentialsFile(), 'utf8')) as Record<string, unknown>
    expect(saved).toMatchObject({ version: 1, origin: server.url })
    expect(statSync(workspace.credentialsFile()).mode & 0o777).toBe(0o600)
    expect(loggedIn.stdout).not.toContain(saved['token'] as string)

    const who = await remote(['whoami', '--json'])
    expect(who.code).toBe(0)
    expect(JSON.parse(who.stdout)).toMatchObject({ userId: 'u-alice' })
    const prefs = await remote(['preferences', '--theme', 'dark', '--json'])
    expect(JSON.parse(prefs.stdout)).toMatchObject({ theme: 'dark' })
    expect((await remote(['public'])).stdout).toBe('Hello, Alice\n')
  })

  it('logout --all ends the user\'s other sessions on the server, then this login', async () => {
    await remote(['login', 'alice@example.com', '--password', 'alice-password'])
    const cliToken = savedToken()
    const elsewhere = await rpcLogin('alice@example.com', 'alice-password')
    const bob = await rpcLogin('bob@example.com', 'bob-password')
    expect(await rpc('whoami', elsewhere)).toBe(200)

    const loggedOut = await remote(['logout', '--all'])
    expect(loggedOut.code).toBe(0)
    // The server is shared by this file's tests: earlier ones left sessions of alice's too.
    expect(loggedOut.stderr).toMatch(/Ended \d+ other sessions? of yours\./)
    expect(await rpc('whoami', elsewhere)).toBe(401)
    expect(await rpc('whoami', cliToken)).toBe(401)
    expect(await rpc('whoami', bob)).toBe(200)
    expect(() => statSync(workspace.credentialsFile())).toThrow(/ENOENT/)
  })

  it('logout --all against a server whose logout ignores `all` says the other sessions may remain', async () => {
    await remote(['login', 'alice@example.com', '--password', 'alice-password'])
    const cliToken = savedToken()
    const elsewhere = await rpcLogin('alice@example.com', 'alice-password')

    const result = await remote(['stale-logout', '--all'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("The server's logout function does not support `all`: your other sessions may still be signed in.")
    // This login did end (the call cleared it), so it is forgotten; the other one is untouched.
    expect(await rpc('whoami', cliToken)).toBe(401)
    expect(() => statSync(workspace.credentialsFile())).toThrow(/ENOENT/)
    expect(await rpc('whoami', elsewhere)).toBe(200)
  })

  it('logout --help documents --all', async () => {
    const help = await remote(['logout', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/Ending sessions:\n\s+--all\s+end every session of yours/)
    expect(help.stdout).not.toMatch(/Flags:/)
  })

  it('logout revokes the session on the server, then removes the file', async () => {
    await remote(['login', 'alice@example.com', '--password', 'alice-password'])
    const token = savedToken()
    expect(await rpc('whoami', token)).toBe(200)

    const loggedOut = await remote(['logout'])
    expect(loggedOut.code).toBe(0)
    expect(loggedOut.stderr).toContain(`the session was ended on ${server.url}`)
    expect(() => statSync(workspace.credentialsFile())).toThrow(/ENOENT/)
    // The token itself is dead on the server, not just forgotten by the CLI.
    expect(await rpc('whoami', token)).toBe(401)

    const after = await remote(['whoami'])
    expect(after.code).toBe(3)
    expect(after.stderr).toContain('You are not logged in.')
  })

  it('a session revoked elsewhere gets exit 3, "expired or revoked", and the login command to run', async () => {
    await remote(['login', 'alice@example.com', '--password', 'alice-password'])
    const token = savedToken()
    // Another client logs the same session out directly on the server.
    const response = await fetch(`${server.url}/rpc/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(200)

    const result = await remote(['whoami'])
    expect(result.code).toBe(3)
    expect(result.stderr).toContain('Error: Your session has expired or was revoked.')
    expect(result.stderr).toContain(`Run \`fixture-app login --server ${server.url}\` to sign in again.`)
    expect(result.stderr).not.toMatch(STACK_TRACE)
    // logout still succeeds: the session is already gone, and the file goes too.
    const logout = await remote(['logout'])
    expect(logout.code).toBe(0)
    expect(logout.stderr).toContain('Your session had already ended')
    expect(() => statSync(workspace.credentialsFile())).toThrow(/ENOENT/)
  })

  it('login names the terminal to the server as cli@<hostname>, and no other command sends it', async () => {
    const recorder = await startRecorder()
    try {
      await runCLI(workspace, ['login', 'alice@example.com', '--password', 'alice-password', '--server', recorder.url])
      await runCLI(workspace, ['public', '--server', recorder.url])
      expect(recorder.requests.map((request) => request.headers['pikku-client'])).toEqual([`cli@${hostname()}`, undefined])
    } finally {
      await recorder.close()
    }
  })

  it('a token issued by one server is never sent to another', async () => {
    await remote(['login', 'alice@example.com', '--password', 'alice-password'])
    const recorder = await startRecorder()
    try {
      const result = await runCLI(workspace, ['whoami', '--server', recorder.url])
      expect(result.code).toBe(3)
      expect(result.stderr).toContain(`the saved login of profile 'default' was issued by ${server.url}; it is never sent to ${recorder.url}`)
      expect(recorder.requests).toHaveLength(1)
      expect(recorder.requests[0]!.headers.authorization).toBeUndefined()

      // logout against the wrong server neither sends the token nor forgets the login.
      const logout = await runCLI(workspace, ['logout', '--server', recorder.url])
      expect(logout.code).toBe(2)
      expect(logout.stderr).toContain(`Run \`fixture-app logout --server ${server.url}\` to end that session.`)
      expect(recorder.requests).toHaveLength(1)
      expect(statSync(workspace.credentialsFile()).isFile()).toBe(true)

      // Local mode does not use it either.
      const local = await runCLI(workspace, ['whoami'])
      expect(local.code).toBe(3)
      expect(local.stderr).toContain('it is not used in local mode')
    } finally {
      await recorder.close()
    }
  })

  it('logout --all sends `all: true` to the logout function and reports a refused token instead of calling it done', async () => {
    const recorder = await startRecorder()
    try {
      const result = await runCLI(workspace, ['logout', '--all', '--server', recorder.url], { env: { FIXTURE_APP_TOKEN: 'stale-token', FIXTURE_APP_SERVER: recorder.url } })
      expect(result.code).toBe(3)
      expect(recorder.requests).toHaveLength(1)
      expect(recorder.requests[0]!.url).toBe('/rpc/logout')
      expect(recorder.requests[0]!.headers.authorization).toBe('Bearer stale-token')
      expect(JSON.parse(recorder.requests[0]!.body)).toEqual({ all: true })
      expect(result.stderr).not.toContain('already ended')
    } finally {
      await recorder.close()
    }
  })

  it('logout while the server is unreachable keeps the login so it can be retried', async () => {
    const other = await startFixtureServer()
    await runCLI(workspace, ['login', 'alice@example.com', '--password', 'alice-password', '--server', other.url])
    const saved = readFileSync(workspace.credentialsFile(), 'utf8')
    await stopServer(other)
    const result = await runCLI(workspace, ['logout', '--server', other.url])
    expect(result.code).toBe(9)
    expect(result.stderr).toContain(`Could not reach ${other.url}`)
    expect(readFileSync(workspace.credentialsFile(), 'utf8')).toBe(saved)
  })

  it('spellings of the same server share the login', async () => {
    await remote(['login', 'alice@example.com', '--password', 'alice-password'])
    const respelled = server.url.replace('http://', 'HTTP://') + '/'
    const result = await runCLI(workspace, ['whoami', '--server', respelled])
    expect(result.code).toBe(0)
  })

  it('redirects are not followed, so the token cannot be forwarded', async () => {
    const recorder = await startRecorder()
    const redirecting = await startFixtureServer({ REDIRECT_TARGET: recorder.url })
    try {
      const result = await runCLI(workspace, ['whoami', '--server', `${redirecting.url}/moved`], { env: { FIXTURE_APP_TOKEN: 'some-token' } })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain('answered with a redirect (307')
      expect(recorder.requests).toHaveLength(0)
    } finally {
      await stopServer(redirecting)
      await recorder.close()
    }
  })

  it('FIXTURE_APP_TOKEN is sent as the bearer token to the server FIXTURE_APP_SERVER names', async () => {
    await remote(['login', 'bob@example.com', '--password', 'bob-password'])
    const token = savedToken()
    const other = createWorkspace()
    try {
      const result = await runCLI(other, ['whoami', '--json'], { env: { FIXTURE_APP_TOKEN: token, FIXTURE_APP_SERVER: server.url } })
      expect(result.code).toBe(0)
      expect(JSON.parse(result.stdout)).toMatchObject({ userId: 'u-bob' })
    } finally {
      other.cleanup()
    }
  })

  it('FIXTURE_APP_SERVER selects remote mode', async () => {
    const result = await runCLI(workspace, ['login', 'alice@example.com', '--password', 'alice-password'], { env: { FIXTURE_APP_SERVER: server.url } })
    expect(result.code).toBe(0)
    expect(JSON.parse(readFileSync(workspace.credentialsFile(), 'utf8'))).toMatchObject({ origin: server.url })
  })

  it('server-side validation errors keep their exit code and issues', async () => {
    await remote(['login', 'alice@example.com', '--password', 'alice-password'])
    const result = await remote(['preferences', '--theme', 'blue'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--theme: Expected one of light, dark')
  })

  it('an unreachable server is exit 9 with a clear message', async () => {
    const closed = await startRecorder()
    const url = closed.url
    await closed.close()
    const result = await runCLI(workspace, ['whoami', '--server', url])
    expect(result.code).toBe(9)
    expect(result.stderr).toContain(`Could not reach ${url} (connection refused). Is the server running?`)
    expect(result.stderr).not.toMatch(STACK_TRACE)
  })

  it('a --server that is not an http(s) URL is bad usage', async () => {
    for (const bad of ['ftp://example.com', 'not a url', 'http://user:pw@example.com']) {
      const result = await runCLI(workspace, ['whoami', '--server', bad])
      expect(result.code).toBe(2)
      expect(result.stderr).toContain('--server must')
    }
  })

  it('plain http to a non-loopback host gets a warning before credentials are sent', async () => {
    // 0.0.0.0 is not a loopback name; port 9 is one fetch refuses at once, so nothing waits.
    const result = await runCLI(workspace, ['login', 'alice@example.com', '--password', 'x', '--server', 'http://0.0.0.0:9'])
    expect(result.stderr).toContain('Warning: http://0.0.0.0:9 is plain http')
    expect(result.code).toBe(9)
  })
})
