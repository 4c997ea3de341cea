import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createWorkspace, runCLI, STACK_TRACE, type Workspace } from './cli-process.test-support.js'
import { startRecorder } from './recording-server.test-support.js'

// What the CLI trusts: a credentials directory only when it is the user's own and nobody else can
// write to it, and the <APP>_TOKEN environment token only for the server <APP>_SERVER names.
// Every case spawns the real CLI in a private temporary home.

let workspace: Workspace
beforeEach(() => {
  workspace = createWorkspace()
})
afterEach(() => {
  workspace.cleanup()
})

async function loginLocally(): Promise<void> {
  const result = await runCLI(workspace, ['login', 'alice@example.com', '--password', 'alice-password'])
  expect(result.code, result.stderr).toBe(0)
}

/** Session ids in the fixture's JSON-file session store. */
function storedSessions(): string[] {
  return existsSync(workspace.store) ? Object.keys(JSON.parse(readFileSync(workspace.store, 'utf8')) as object) : []
}

const isRoot = process.getuid?.() === 0
// nobody/nogroup on Debian: an owner that is not the user running the tests.
const OTHER_UID = 65534

describe('a credentials directory the user does not control', () => {
  // Giving a directory to another user needs root (CI runs as root); elsewhere this is skipped.
  it.skipIf(!isRoot)('owned by another user: every command exits 78 with what to do, and nothing is read, sent or written', async () => {
    await loginLocally()
    const sessionsBefore = storedSessions()
    chownSync(workspace.appDir, OTHER_UID, OTHER_UID)
    const recorder = await startRecorder()
    try {
      for (const args of [['whoami'], ['public'], ['logout'], ['login', 'alice@example.com', '--password', 'alice-password'], ['login', 'alice@example.com', '--password', 'alice-password', '--server', recorder.url]]) {
        const result = await runCLI(workspace, args)
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(78)
        expect(result.stderr).toContain(
          `Error: The credentials for profile 'default' will not be used or saved: its directory ${workspace.appDir} belongs to user id ${OTHER_UID}, not to you (0), who could read or replace them.`,
        )
        expect(result.stderr).toContain(`Move ${workspace.appDir} out of the way (or have its owner remove it), or set XDG_CONFIG_HOME to a directory of your own`)
        expect(result.stderr).not.toMatch(STACK_TRACE)
      }
      // The login was never attempted: no password reached the server, no session was made.
      expect(recorder.requests).toHaveLength(0)
      expect(storedSessions()).toEqual(sessionsBefore)
      // logout did not delete the file either.
      expect(existsSync(workspace.credentialsFile())).toBe(true)
    } finally {
      await recorder.close()
    }
  })

  it('writable by its group: login is refused before the password is sent, and logout leaves the file alone', async () => {
    await loginLocally()
    chmodSync(workspace.appDir, 0o770)
    const recorder = await startRecorder()
    try {
      const login = await runCLI(workspace, ['login', 'alice@example.com', '--password', 'alice-password', '--server', recorder.url])
      expect(login.code).toBe(78)
      expect(login.stderr).toContain(`its directory ${workspace.appDir} is writable by other users (mode 0770)`)
      expect(login.stderr).toContain(`Run \`chmod 700 ${workspace.appDir}\`, then try again.`)
      expect(recorder.requests).toHaveLength(0)

      const logout = await runCLI(workspace, ['logout'])
      expect(logout.code).toBe(78)
      expect(existsSync(workspace.credentialsFile())).toBe(true)
    } finally {
      await recorder.close()
    }
  })

  it('once it is the user’s own again (chmod 700), the saved login works', async () => {
    await loginLocally()
    chmodSync(workspace.appDir, 0o777)
    expect((await runCLI(workspace, ['whoami'])).code).toBe(78)
    chmodSync(workspace.appDir, 0o700)
    const result = await runCLI(workspace, ['whoami', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ userId: 'u-alice' })
  })

  it('a directory that does not exist yet is created 0700 by the first login', async () => {
    mkdirSync(workspace.configHome, { recursive: true, mode: 0o755 })
    await loginLocally()
    expect(statSync(workspace.appDir).mode & 0o777).toBe(0o700)
  })
})

describe('FIXTURE_APP_TOKEN goes only to the server FIXTURE_APP_SERVER names', () => {
  const TOKEN = 'ci-token-that-must-not-leak-0123456789'

  it('is not sent to a --server when FIXTURE_APP_SERVER is unset; the CLI says why and what to do', async () => {
    const recorder = await startRecorder()
    try {
      const result = await runCLI(workspace, ['whoami', '--server', recorder.url], { env: { FIXTURE_APP_TOKEN: TOKEN } })
      expect(result.code).toBe(3)
      expect(recorder.requests).toHaveLength(1)
      expect(recorder.requests[0]!.headers.authorization).toBeUndefined()
      expect(JSON.stringify(recorder.requests)).not.toContain(TOKEN)
      expect(result.stderr).toContain(
        `Error: You are not logged in here: FIXTURE_APP_TOKEN is sent only to the server named by FIXTURE_APP_SERVER, which is not set; it is never sent to ${recorder.url}.`,
      )
      expect(result.stderr).toContain(`Set FIXTURE_APP_SERVER=${recorder.url} (instead of --server) to send FIXTURE_APP_TOKEN there`)
    } finally {
      await recorder.close()
    }
  })

  it('is not sent to a --server other than FIXTURE_APP_SERVER, by any command', async () => {
    const trusted = await startRecorder()
    const other = await startRecorder()
    try {
      const env = { FIXTURE_APP_TOKEN: TOKEN, FIXTURE_APP_SERVER: trusted.url }
      for (const command of ['whoami', 'public', 'logout']) {
        const result = await runCLI(workspace, [command, '--server', other.url], { env })
        expect(result.stderr).not.toMatch(STACK_TRACE)
      }
      expect(JSON.stringify(other.requests)).not.toContain(TOKEN)
      expect(trusted.requests).toHaveLength(0)
    } finally {
      await trusted.close()
      await other.close()
    }
  })

  it('is sent to FIXTURE_APP_SERVER, also when --server names the same server in another spelling', async () => {
    const recorder = await startRecorder()
    try {
      const env = { FIXTURE_APP_TOKEN: TOKEN, FIXTURE_APP_SERVER: recorder.url }
      await runCLI(workspace, ['whoami'], { env })
      await runCLI(workspace, ['whoami', '--server', `${recorder.url}/`], { env })
      expect(recorder.requests.map((request) => request.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`])
    } finally {
      await recorder.close()
    }
  })
})
