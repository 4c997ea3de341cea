import { readFileSync, statSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createWorkspace, interruptWhenRunning, NO_CHMOD, runCLI, STACK_TRACE, type Workspace } from './cli-process.test-support.js'

// Every test here spawns the fixture CLI (node on a script importing the built package) in local
// mode: functions run in the CLI process against a session store kept in a JSON file.

let workspace: Workspace
beforeEach(() => {
  workspace = createWorkspace()
})
afterEach(() => {
  workspace.cleanup()
})

const HOUR = 60 * 60 * 1000
const T0 = 1_800_000_000_000

function login(email = 'alice@example.com', password = 'alice-password', extra: string[] = [], env: Record<string, string> = {}) {
  return runCLI(workspace, ['login', '--email', email, '--password', password, ...extra], { env })
}

function savedToken(profile = 'default'): string {
  return (JSON.parse(readFileSync(workspace.credentialsFile(profile), 'utf8')) as { token: string }).token
}

describe('one-shot commands in local mode', () => {
  it('login, profile, logout, then profile fails with the unauthorized exit code', async () => {
    const loggedIn = await login()
    expect(loggedIn.code).toBe(0)
    expect(loggedIn.stdout).toContain('u-alice')
    expect(loggedIn.stderr).toContain('Logged in')

    const profile = await runCLI(workspace, ['whoami'])
    expect(profile).toMatchObject({ code: 0 })
    expect(profile.stdout).toContain('email:  alice@example.com')

    const loggedOut = await runCLI(workspace, ['logout'])
    expect(loggedOut.code).toBe(0)
    expect(loggedOut.stderr).toContain('Logged out.')

    const after = await runCLI(workspace, ['whoami'])
    expect(after.code).toBe(3)
    expect(after.stdout).toBe('')
    expect(after.stderr).toContain('You are not logged in.')
    expect(after.stderr).toContain('Run `fixture-app login` to sign in.')
  })

  it('logout deletes the credentials file and revokes the stored session', async () => {
    await login()
    const token = savedToken()
    expect((await runCLI(workspace, ['logout'])).code).toBe(0)
    expect(() => statSync(workspace.credentialsFile())).toThrow(/ENOENT/)
    // The old token, offered again through the environment, no longer opens a session.
    const replay = await runCLI(workspace, ['whoami'], { env: { FIXTURE_APP_TOKEN: token } })
    expect(replay.code).toBe(3)
    expect(replay.stderr).toContain('Your session has expired or was revoked.')
  })

  it('logout --all ends every session of the user in the store, and no one else\'s', async () => {
    await login()
    await login('alice@example.com', 'alice-password', ['--profile', 'laptop'])
    await login('bob@example.com', 'bob-password', ['--profile', 'bob'])
    const laptop = savedToken('laptop')

    const loggedOut = await runCLI(workspace, ['logout', '--all'])
    expect(loggedOut.code).toBe(0)
    expect(loggedOut.stderr).toContain('Ended 1 other session of yours.')
    expect(() => statSync(workspace.credentialsFile())).toThrow(/ENOENT/)
    const replay = await runCLI(workspace, ['whoami'], { env: { FIXTURE_APP_TOKEN: laptop } })
    expect(replay.code).toBe(3)
    expect((await runCLI(workspace, ['whoami', '--profile', 'bob'])).code).toBe(0)
  })

  it('logout --all with a logout function that does not take `all` changes nothing and says why', async () => {
    await login()
    const result = await runCLI(workspace, ['old-logout', '--all'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('does not take `all`')
    expect(result.stderr).toContain('Run `fixture-app old-logout` to log out here only.')
    expect((await runCLI(workspace, ['whoami'])).code).toBe(0)
  })

  it('the credentials file is 0600 in a 0700 directory, set at creation even with umask 000', async () => {
    const result = await runCLI(workspace, ['login', 'alice@example.com', '--password', 'alice-password'], {
      umask000: true,
      nodeArgs: ['--import', NO_CHMOD],
    })
    expect(result.stderr).not.toContain('chmod called')
    expect(result.code).toBe(0)
    expect(statSync(workspace.configHome).mode & 0o777).toBe(0o700)
    expect(statSync(workspace.appDir).mode & 0o777).toBe(0o700)
    expect(statSync(workspace.credentialsFile()).mode & 0o777).toBe(0o600)
    // Format version 1, bound to the local origin, with the user for `accounts`; nothing else is written next to it.
    const saved = JSON.parse(readFileSync(workspace.credentialsFile(), 'utf8')) as Record<string, unknown>
    expect(saved).toEqual({ version: 1, origin: 'local', token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), savedAt: expect.any(Number), user: 'alice@example.com' })
  })

  it('a session whose idle timeout passed says it expired and suggests login, exit 3', async () => {
    expect((await login(undefined, undefined, [], { FIXTURE_NOW: String(T0) })).code).toBe(0)
    const fresh = await runCLI(workspace, ['whoami'], { env: { FIXTURE_NOW: String(T0 + HOUR / 2) } })
    expect(fresh.code).toBe(0)
    const expired = await runCLI(workspace, ['whoami'], { env: { FIXTURE_NOW: String(T0 + HOUR / 2 + HOUR + 1) } })
    expect(expired.code).toBe(3)
    expect(expired.stderr).toContain('Your session has expired or was revoked.')
    expect(expired.stderr).toContain('Run `fixture-app login` to sign in again.')
    expect(expired.stderr).not.toMatch(STACK_TRACE)
    // A public command still runs, anonymously, and says why.
    const anonymous = await runCLI(workspace, ['public'], { env: { FIXTURE_NOW: String(T0 + 3 * HOUR) } })
    expect(anonymous).toMatchObject({ code: 0, stdout: 'Hello, guest\n' })
    expect(anonymous.stderr).toContain('Note: your saved session has expired or was revoked, so this ran without it.')
  })

  it('a public command runs anonymously without a login and personalised with one', async () => {
    expect((await runCLI(workspace, ['public'])).stdout).toBe('Hello, guest\n')
    await login()
    expect((await runCLI(workspace, ['public'])).stdout).toBe('Hello, Alice\n')
  })

  it('preferences flags are typed from the input schema and persist in the session', async () => {
    await login()
    const set = await runCLI(workspace, ['preferences', '--theme', 'dark', '--font-size', '14', '--tags', 'a', '--tags', 'b', '--compact', '--json'])
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout)).toEqual({ theme: 'dark', fontSize: 14, tags: ['a', 'b'], compact: true })
    const off = await runCLI(workspace, ['preferences', '--no-compact', '--json'])
    expect(JSON.parse(off.stdout)).toMatchObject({ theme: 'dark', compact: false })
    const who = await runCLI(workspace, ['whoami', '--json'])
    expect(JSON.parse(who.stdout)).toMatchObject({ theme: 'dark' })
    // --input carries the whole input as JSON; flags override its fields.
    const both = await runCLI(workspace, ['preferences', '--input', '{"theme":"light","fontSize":9}', '--font-size', '11', '--json'])
    expect(JSON.parse(both.stdout)).toMatchObject({ theme: 'light', fontSize: 11 })
    const notObject = await runCLI(workspace, ['preferences', '--input', '[1]'])
    expect(notObject.code).toBe(2)
    expect(notObject.stderr).toContain('--input must be a JSON object')
  })

  it('invalid input is exit 2 and names the flags to fix', async () => {
    await login()
    const result = await runCLI(workspace, ['preferences', '--theme', 'blue', '--font-size', 'ten'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--theme: Expected one of light, dark')
    expect(result.stderr).toContain('--font-size: Expected integer')
    const missing = await runCLI(workspace, ['login', '--email', 'alice@example.com'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('--password: Required')
  })

  it('bad usage is exit 2, distinct from unauthorized (3) and internal errors (1)', async () => {
    // A command with an input schema knows its flags (one without takes any: generic-flags.test.ts).
    const unknownFlag = await runCLI(workspace, ['preferences', '--bogus'])
    expect(unknownFlag.code).toBe(2)
    expect(unknownFlag.stderr).toContain("Unknown option '--bogus'")
    const unknownCommand = await runCLI(workspace, ['whoamj'])
    expect(unknownCommand.code).toBe(2)
    expect(unknownCommand.stderr).toContain('Did you mean `fixture-app whoami`?')
    const extra = await runCLI(workspace, ['whoami', 'extra'])
    expect(extra.code).toBe(2)
    const internal = await runCLI(workspace, ['crash'])
    expect(internal.code).toBe(1)
    expect(internal.stderr).toMatch(/error id: [0-9a-f-]{36}/)
    expect(internal.stderr).not.toContain('secret internal detail')
    expect(internal.stderr).not.toMatch(STACK_TRACE)
  })

  it('wrong password is exit 3 with the function message and saves nothing', async () => {
    const result = await login('alice@example.com', 'wrong')
    expect(result.code).toBe(3)
    expect(result.stderr).toContain('Error: Invalid credentials')
    expect(() => statSync(workspace.credentialsFile())).toThrow(/ENOENT/)
  })

  it('--json prints results on stdout and errors as JSON on stderr', async () => {
    const anonymous = await runCLI(workspace, ['whoami', '--json'])
    expect(anonymous.code).toBe(3)
    expect(anonymous.stdout).toBe('')
    expect(JSON.parse(anonymous.stderr)).toEqual({
      error: { code: 'UNAUTHORIZED', message: 'You are not logged in.', exitCode: 3, hint: 'Run `fixture-app login` to sign in.' },
    })
    const loggedIn = await login('alice@example.com', 'alice-password', ['--json'])
    // The login's token is the CLI's to keep: it never appears in the output.
    expect(JSON.parse(loggedIn.stdout)).toEqual({ user: { id: 'u-alice', email: 'alice@example.com' } })
    expect(loggedIn.stdout).not.toContain(savedToken())
    // Only the warning that the token went to the file in plain text (no keychain here): said even with --json.
    expect(loggedIn.stderr).toMatch(/^Warning: the OS keychain cannot be reached; the secret was written in plain text to \S+ \(--insecure-storage or FIXTURE_APP_INSECURE_STORAGE=1\)\.\n$/)
  })

  it('--profile keeps several logins side by side', async () => {
    await login('alice@example.com', 'alice-password')
    await login('bob@example.com', 'bob-password', ['--profile', 'work'])
    expect((await runCLI(workspace, ['whoami'])).stdout).toContain('alice@example.com')
    expect((await runCLI(workspace, ['whoami', '--profile', 'work'])).stdout).toContain('bob@example.com')
    expect((await runCLI(workspace, ['whoami'], { env: { FIXTURE_APP_PROFILE: 'work' } })).stdout).toContain('bob@example.com')
    expect(statSync(workspace.credentialsFile('work')).mode & 0o777).toBe(0o600)

    expect((await runCLI(workspace, ['logout', '--profile', 'work'])).code).toBe(0)
    const work = await runCLI(workspace, ['whoami', '--profile', 'work'])
    expect(work.code).toBe(3)
    expect(work.stderr).toContain('Run `fixture-app login --profile work` to sign in.')
    expect((await runCLI(workspace, ['whoami'])).stdout).toContain('alice@example.com')
  })

  it('a profile name that could escape the directory is refused', async () => {
    const result = await runCLI(workspace, ['whoami', '--profile', '../../etc'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Profile names use letters')
  })

  it('FIXTURE_APP_TOKEN overrides the credentials file (for CI)', async () => {
    await login('bob@example.com', 'bob-password', ['--profile', 'bob'])
    await login()
    const asBob = await runCLI(workspace, ['whoami', '--json'], { env: { FIXTURE_APP_TOKEN: savedToken('bob') } })
    expect(asBob.code).toBe(0)
    expect(JSON.parse(asBob.stdout)).toMatchObject({ userId: 'u-bob' })
    // The file of the default profile is neither used nor touched.
    expect(JSON.parse((await runCLI(workspace, ['whoami', '--json'])).stdout)).toMatchObject({ userId: 'u-alice' })

    const garbage = await runCLI(workspace, ['whoami'], { env: { FIXTURE_APP_TOKEN: 'not a token' } })
    expect(garbage.code).toBe(2)
    expect(garbage.stderr).toContain('FIXTURE_APP_TOKEN is set but is not a token')
  })

  it('logout with FIXTURE_APP_TOKEN ends that session and leaves the file alone', async () => {
    await login('bob@example.com', 'bob-password', ['--profile', 'bob'])
    const token = savedToken('bob')
    await login()
    const out = await runCLI(workspace, ['logout'], { env: { FIXTURE_APP_TOKEN: token } })
    expect(out.code).toBe(0)
    expect(out.stderr).toContain('unset the variable too')
    expect((await runCLI(workspace, ['whoami'], { env: { FIXTURE_APP_TOKEN: token } })).code).toBe(3)
    expect((await runCLI(workspace, ['whoami'])).code).toBe(0)
  })

  it('logging in as another user replaces the session and revokes the previous one', async () => {
    await login()
    const first = savedToken()
    await login('bob@example.com', 'bob-password')
    expect(savedToken()).not.toBe(first)
    expect(JSON.parse((await runCLI(workspace, ['whoami', '--json'])).stdout)).toMatchObject({ userId: 'u-bob' })
    expect((await runCLI(workspace, ['whoami'], { env: { FIXTURE_APP_TOKEN: first } })).code).toBe(3)
  })

  it('logout when not logged in succeeds and says so', async () => {
    const result = await runCLI(workspace, ['logout'])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('You were not logged in.')
  })

  it('--help is generated from the docs; --version prints the version', async () => {
    const program = await runCLI(workspace, ['--help'])
    expect(program.code).toBe(0)
    expect(program.stdout).toMatch(/^ {2}whoami +Show the logged-in user$/m)
    expect(program.stdout).toContain('FIXTURE_APP_TOKEN')
    expect(program.stdout).toMatch(/^ {2}3 +not logged in, or the session expired or was revoked$/m)
    const command = await runCLI(workspace, ['preferences', '--help'])
    expect(command.stdout).toContain('--theme <light|dark>')
    expect(command.stdout).toContain('--font-size <number>')
    expect(command.stdout).toContain('--compact')
    expect(command.stdout).toContain('Requires a login')
    expect((await runCLI(workspace, ['help', 'login'])).stdout).toContain('fixture-app login <email> [flags]')
    expect((await runCLI(workspace, ['--version'])).stdout).toBe('1.2.3\n')
  })

  it('Ctrl-C (SIGINT) cancels a running command with exit 130', async () => {
    const { code, stderr } = await interruptWhenRunning(workspace, ['wait', '--ms', '600000'])
    expect(code).toBe(130)
    expect(stderr).toBe('Error: Cancelled.\n')
  })

  it('SIGINT to a shell reading from a pipe cancels the command and ends with exit 130', async () => {
    const { code, stderr } = await interruptWhenRunning(workspace, ['shell'], 'wait --ms 600000\n')
    expect(code).toBe(130)
    expect(stderr).toContain('Error: Cancelled.')
  })

  it('no arguments without a terminal prints usage on stderr and exits 2', async () => {
    const result = await runCLI(workspace, [])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('Usage:')
  })

  it('the shell reads commands from a pipe: one login serves the following commands', async () => {
    const script = ['login alice@example.com --password alice-password', 'whoami --json', 'preferences --theme dark --json', 'logout', 'whoami'].join('\n')
    const result = await runCLI(workspace, ['shell'], { input: `${script}\n` })
    const lines = result.stdout.trim().split('\n')
    expect(lines[0]).toContain('user:')
    expect(JSON.parse(lines.find((line) => line.startsWith('{"userId"'))!)).toMatchObject({ userId: 'u-alice' })
    expect(JSON.parse(lines.find((line) => line.startsWith('{"theme"'))!)).toMatchObject({ theme: 'dark' })
    expect(result.stderr).toContain('Logged out.')
    expect(result.stderr).toContain('You are not logged in.')
    // Piped, the shell exits with the last command's code.
    expect(result.code).toBe(3)
  })
})
