import { mkdtempSync, rmSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CLIResult, runDemoCLI } from './demo-cli.test-support.js'

// `pikku-demo sessions` in local mode (the demo's SQLite file, no server): two terminals' logins
// kept as two profiles, listed, and one signing the other out. Remote mode (`--server`) is covered
// with the other protocols in signed-in-everywhere*.test.ts.

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
let root: string

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pikku-demo-cli-sessions-'))
})
afterEach(() => {
  rmSync(root, { recursive: true, force: true })
})

function cli(...args: string[]): Promise<CLIResult> {
  return runDemoCLI(CLI, args, {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'config'),
    DATA_DIR: join(root, 'data'),
    SESSION_SECRETS: 'cli-sessions-test-secret-0123456789abcdefghij',
  })
}

describe('pikku-demo sessions in local mode', () => {
  it('lists both logins as cli sessions, and one signs the other out', async () => {
    for (const profile of ['default', 'other']) {
      const login = await cli('login', '--email', 'alice@example.com', '--password', 'alice-password', '--profile', profile)
      expect(login.code, login.stderr).toBe(0)
    }
    const listed = JSON.parse((await cli('sessions', '--json')).stdout) as { action: string; sessions: { handle: string; current: boolean; protocol: string; client: string }[] }
    expect(listed.action).toBe('list')
    expect(listed.sessions).toHaveLength(2)
    for (const session of listed.sessions) expect(session).toMatchObject({ protocol: 'cli', credential: 'bearer', client: `cli@${hostname()}` })
    const other = listed.sessions.find((session) => !session.current)!

    const revoked = await cli('sessions', 'revoke', other.handle)
    expect(revoked).toMatchObject({ code: 0, stdout: `Signed out session ${other.handle}.\n` })
    const after = await cli('profile', '--profile', 'other')
    expect(after.code).toBe(3)
    expect(after.stderr).toContain('Your session has expired or was revoked.')
    expect((await cli('profile')).code).toBe(0)
  })

  it('`sessions revoke` without a handle, or an unknown action, is a usage error naming what to change', async () => {
    await cli('login', '--email', 'alice@example.com', '--password', 'alice-password')
    const missing = await cli('sessions', 'revoke')
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('`sessions revoke` takes a handle')
    const unknown = await cli('sessions', 'purge')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/--action: .*"list"\|"revoke"\|"revoke-others"/)
  })
})
