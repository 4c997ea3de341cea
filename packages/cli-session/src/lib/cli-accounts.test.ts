import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createWorkspace, runCLI, type Workspace } from './cli-process.test-support.js'

let workspace: Workspace
beforeEach(() => {
  workspace = createWorkspace()
})
afterEach(() => workspace.cleanup())

const cli = (args: string[]) => runCLI(workspace, args)

describe('several accounts', () => {
  it('login --account adds a second account on the same server; accounts lists both; switch changes the one commands use', async () => {
    expect((await cli(['login', 'alice@example.com', '--password', 'alice-password'])).code).toBe(0)
    expect((await cli(['login', 'bob@example.com', '--password', 'bob-password', '--account', 'work'])).code).toBe(0)
    const listed = await cli(['accounts', '--json'])
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ account: 'default', active: true, user: 'alice@example.com', server: 'local' }),
      expect.objectContaining({ account: 'work', active: false, user: 'bob@example.com', server: 'local' }),
    ])
    expect((await cli(['whoami'])).stdout).toContain('alice@example.com')
    expect((await cli(['whoami', '--account', 'work'])).stdout).toContain('bob@example.com')

    const switched = await cli(['switch', 'work'])
    expect(switched.code).toBe(0)
    expect(switched.stderr).toContain("Switched to 'work'")
    expect(statSync(join(workspace.appDir, 'active-account')).mode & 0o777).toBe(0o600)
    expect((await cli(['whoami'])).stdout).toContain('bob@example.com')
    expect(JSON.parse((await cli(['accounts', '--json'])).stdout).map((row: { active: boolean }) => row.active)).toEqual([false, true])
    // Logging out of the active account leaves the other.
    expect((await cli(['logout'])).code).toBe(0)
    expect((await cli(['whoami', '--account', 'default'])).stdout).toContain('alice@example.com')
  })

  it('switch to an account that has no login is refused with exit 5, and a bad name with exit 2', async () => {
    const missing = await cli(['switch', 'nobody'])
    expect(missing.code).toBe(5)
    expect(missing.stderr).toContain('login --account nobody')
    expect((await cli(['switch', '../etc'])).code).toBe(2)
    expect(() => readFileSync(join(workspace.appDir, 'active-account'))).toThrow()
  })

  it('--account and --profile naming different accounts is a usage error', async () => {
    expect((await cli(['whoami', '--account', 'a', '--profile', 'b'])).code).toBe(2)
  })
})
