import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createWorkspace, runCLI, STACK_TRACE, type Workspace } from './cli-process.test-support.js'

// A damaged or unsafe credentials file gets a message that says what to do, exit code 78, and
// never a stack trace; `login` replaces it and `logout` removes it.

let workspace: Workspace
beforeEach(() => {
  workspace = createWorkspace()
})
afterEach(() => {
  workspace.cleanup()
})

function writeCredentials(content: string | Uint8Array, mode = 0o600): void {
  mkdirSync(workspace.appDir, { recursive: true, mode: 0o700 })
  rmSync(workspace.credentialsFile(), { force: true, recursive: true })
  writeFileSync(workspace.credentialsFile(), content, { mode })
  chmodSync(workspace.credentialsFile(), mode)
}

async function loginAndReadFile(): Promise<string> {
  const result = await runCLI(workspace, ['login', 'alice@example.com', '--password', 'alice-password'])
  expect(result.code).toBe(0)
  return readFileSync(workspace.credentialsFile(), 'utf8')
}

const valid = { version: 1, origin: 'local', token: 'A'.repeat(43), savedAt: 1 }

describe('a credentials file that cannot be used', () => {
  it.each([
    ['empty', '', 'is damaged: the file is empty'],
    ['truncated', JSON.stringify(valid).slice(0, 25), 'is damaged: not valid JSON (it ends too early: the file is truncated)'],
    ['not JSON', 'token = abc\n', 'is damaged: not valid JSON (unexpected content'],
    ['not UTF-8', new Uint8Array([0xc3, 0x28, 0xff]), 'is damaged: the file is not UTF-8 text'],
    ['a JSON list', '["a"]', 'is damaged: expected a JSON object, found an array'],
    ['missing its version', JSON.stringify({ ...valid, version: undefined }), 'is damaged: it has no "version" field'],
    ['missing its token', JSON.stringify({ ...valid, token: undefined }), 'is damaged: the "token" field is missing or malformed'],
  ])('%s: exit 78, says it is damaged and how to replace it', async (_name, content, message) => {
    writeCredentials(content)
    const result = await runCLI(workspace, ['whoami'])
    expect(result.code).toBe(78)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(`Error: The credentials file ${workspace.credentialsFile()} ${message}`)
    expect(result.stderr).toContain('Run `fixture-app login` to replace it (or `fixture-app logout` to delete it).')
    expect(result.stderr).not.toMatch(STACK_TRACE)
  })

  it('of an unknown format version: exit 78, suggests upgrading or logging in again', async () => {
    writeCredentials(JSON.stringify({ ...valid, version: 7 }))
    const result = await runCLI(workspace, ['whoami'])
    expect(result.code).toBe(78)
    expect(result.stderr).toContain('has format version 7; this release reads version 1; it was probably written by a newer fixture-app.')
    expect(result.stderr).toContain('Upgrade fixture-app, or run `fixture-app login` to replace the file.')
    expect(result.stderr).not.toMatch(STACK_TRACE)
  })

  it('readable by others: refused (even a public command), with exit 78 and what to do', async () => {
    writeCredentials(await loginAndReadFile(), 0o644)
    for (const command of ['whoami', 'public']) {
      const result = await runCLI(workspace, [command])
      expect(result.code).toBe(78)
      expect(result.stderr).toContain(`The credentials file ${workspace.credentialsFile()} is not private: it can be accessed by other users (mode 0644).`)
      expect(result.stderr).toContain('Run `fixture-app logout` to revoke that session and delete the file, then `fixture-app login`.')
      expect(result.stderr).not.toMatch(STACK_TRACE)
    }
  })

  it('readable by others: logout revokes the exposed session, then deletes the file', async () => {
    const content = await loginAndReadFile()
    const token = (JSON.parse(content) as { token: string }).token
    writeCredentials(content, 0o640)
    const result = await runCLI(workspace, ['logout'])
    expect(result.code).toBe(0)
    expect(() => statSync(workspace.credentialsFile())).toThrow(/ENOENT/)
    const replay = await runCLI(workspace, ['whoami'], { env: { FIXTURE_APP_TOKEN: token } })
    expect(replay.code).toBe(3)
  })

  it('in a directory others can write to: refused with the chmod to run', async () => {
    await loginAndReadFile()
    chmodSync(workspace.appDir, 0o777)
    const result = await runCLI(workspace, ['whoami'])
    expect(result.code).toBe(78)
    expect(result.stderr).toContain(`Run \`chmod 700 ${workspace.appDir}\`, then try again.`)
  })

  it('a symbolic link: refused, not followed', async () => {
    const content = await loginAndReadFile()
    const elsewhere = join(workspace.root, 'planted.json')
    writeFileSync(elsewhere, content, { mode: 0o600 })
    rmSync(workspace.credentialsFile())
    symlinkSync(elsewhere, workspace.credentialsFile())
    const result = await runCLI(workspace, ['whoami'])
    expect(result.code).toBe(78)
    expect(result.stderr).toContain('it is a symbolic link')
  })

  it('login replaces a damaged file with a good 0600 one', async () => {
    writeCredentials('{"version":1,"origin":"lo', 0o644)
    const result = await runCLI(workspace, ['login', 'alice@example.com', '--password', 'alice-password'])
    expect(result.code).toBe(0)
    expect(statSync(workspace.credentialsFile()).mode & 0o777).toBe(0o600)
    expect((await runCLI(workspace, ['whoami'])).code).toBe(0)
  })

  it('logout deletes a damaged file and says so', async () => {
    writeCredentials('garbage')
    const result = await runCLI(workspace, ['logout'])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(`Removed the unusable credentials file ${workspace.credentialsFile()}.`)
    expect(() => statSync(workspace.credentialsFile())).toThrow(/ENOENT/)
  })

  it('--json reports the problem as a JSON error', async () => {
    writeCredentials('{')
    const result = await runCLI(workspace, ['whoami', '--json'])
    expect(result.code).toBe(78)
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: 'CREDENTIALS', exitCode: 78 } })
  })

  it('random bytes or JSON as the file: always a clean message, never a stack trace', async () => {
    const contents = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.record({ version: fc.oneof(fc.constant(1), fc.integer()), origin: fc.constant('local'), token: fc.string(), savedAt: fc.integer() }).map((value) => JSON.stringify(value)),
    )
    await fc.assert(
      fc.asyncProperty(contents, async (content) => {
        writeCredentials(content)
        const result = await runCLI(workspace, ['whoami'])
        // 78: the file is unusable; 3: it parsed, but its token opens no session.
        expect([3, 78]).toContain(result.code)
        expect(result.stderr.startsWith('Error: ')).toBe(true)
        expect(result.stderr).not.toMatch(STACK_TRACE)
        expect(result.stdout).toBe('')
      }),
      { numRuns: 12 },
    )
  }, 120_000)
})
