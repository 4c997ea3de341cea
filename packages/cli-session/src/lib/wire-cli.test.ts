import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import {
  createMemoryStore,
  createRunner,
  createSessionManager,
  pikkuFunc,
  pikkuSessionlessFunc,
  silentLogger,
  UnauthorizedError,
} from '@pikku/core'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CredentialLoadResult, CredentialStore, StoredCredential } from './credential-store.js'
import type { CLIIO } from './cli-options.js'
import { wireCLI } from './wire-cli.js'

// In-process runs of wireCLI: configuration mistakes caught when wiring, a credential store other
// than the file (the keychain extension point), and a property test over the credentials file.

const login = pikkuSessionlessFunc<{ user: string }, { token: string; ok: boolean }>({
  name: 'login',
  input: {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value: unknown) =>
        typeof (value as { user?: unknown }).user === 'string' ? { value: value as { user: string } } : { issues: [{ message: 'Required', path: ['user'] }] },
      jsonSchema: {
        input: () => ({ type: 'object', properties: { user: { type: 'string' } }, required: ['user'] }),
        output: () => ({}),
      },
    },
  } as never,
  func: async (_services, data, { session }) => {
    if (data.user === 'nobody') throw new UnauthorizedError('Invalid credentials')
    await session.set({ userId: data.user })
    return { token: 'not-for-printing', ok: true }
  },
  docs: { summary: 'Log in' },
})
const whoami = pikkuFunc<void, { userId: string }>({
  name: 'whoami',
  func: async (_services, _data, { session }) => ({ userId: (await session.get()).userId }),
  docs: { summary: 'Who am I' },
})
const logout = pikkuFunc<void, void>({
  name: 'logout',
  func: async (_services, _data, { session }) => {
    await session.clear()
  },
})

function createApp() {
  const sessions = createSessionManager({ store: createMemoryStore() })
  return { runner: createRunner({ services: {}, logger: silentLogger }), sessions }
}

class Capture extends Writable {
  text = ''
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString()
    callback()
  }
}

function io(env: Record<string, string> = {}): CLIIO & { stdout: Capture; stderr: Capture } {
  return { stdin: process.stdin, stdout: new Capture(), stderr: new Capture(), env: { HOME: '/nonexistent', ...env } }
}

/** A credential store in memory: what a keychain-backed store would look like to the CLI. */
function memoryCredentialStore(): CredentialStore & { saved: Map<string, StoredCredential> } {
  const saved = new Map<string, StoredCredential>()
  return {
    saved,
    describe: (profile) => `the test keychain (${profile})`,
    load: async (profile): Promise<CredentialLoadResult> => {
      const credential = saved.get(profile)
      return credential === undefined ? { kind: 'none' } : { kind: 'ok', credential }
    },
    save: async (profile, credential) => {
      saved.set(profile, credential)
    },
    remove: async (profile) => saved.delete(profile),
  }
}

describe('wiring mistakes are reported when the CLI is wired', () => {
  const local = createApp()
  it.each([
    ['a program name that cannot name a directory', { program: { name: 'Bad Name' }, commands: { whoami }, local }, /program.name must be lower-case/],
    ['no commands', { program: { name: 'app' }, commands: {}, local }, /at least one command/],
    ['a built-in command name', { program: { name: 'app' }, commands: { shell: whoami }, local }, /'shell' is a built-in command/],
    ['an upper-case command name', { program: { name: 'app' }, commands: { Who: whoami }, local }, /command names are lower-case/],
    ['a command without a function', { program: { name: 'app' }, commands: { whoami: { func: 'nope' } }, local }, /needs a function/],
    ['a positional that is not an input field', { program: { name: 'app' }, commands: { login: { func: login, positionals: ['missing'] } }, local }, /positional 'missing'/],
    ['neither local nor remote mode', { program: { name: 'app' }, commands: { whoami }, remote: false }, /needs local/],
    ['a local origin that looks like a server', { program: { name: 'app' }, commands: { whoami }, local, localOrigin: 'http://x' }, /localOrigin must be 'local'/],
    ['an rpcPath without a leading slash', { program: { name: 'app' }, commands: { whoami }, local, remote: { rpcPath: 'rpc' } }, /rpcPath must start with '\/'/],
    ['an empty login scope', { program: { name: 'app' }, commands: { whoami }, local, remote: { scope: '' } }, /remote.scope must be scope names separated by single spaces/],
    ['a login scope with two spaces', { program: { name: 'app' }, commands: { whoami }, local, remote: { scope: 'mcp:tools  notes' } }, /remote.scope must be/],
    ['a login scope with a quote', { program: { name: 'app' }, commands: { whoami }, local, remote: { scope: 'mcp"tools' } }, /remote.scope must be/],
  ])('%s', (_title, options, message) => {
    expect(() => wireCLI(options as never)).toThrow(message)
  })

  it('a function without a name needs a remoteName in remote mode, since the CLI cannot know its name on the server', () => {
    const unnamed = pikkuFunc<void, void>({ func: async () => {} })
    expect(() => wireCLI({ program: { name: 'app' }, commands: { profile: unnamed }, local })).toThrow(
      /command 'profile' has a function without a name, so in remote mode \(--server\) the CLI cannot know the name the server serves it under\. Give the function a name/,
    )
    expect(() => wireCLI({ program: { name: 'app' }, commands: { profile: { func: unnamed, remoteName: 'getProfile' } }, local })).not.toThrow()
    expect(() => wireCLI({ program: { name: 'app' }, commands: { profile: unnamed }, local, remote: false })).not.toThrow()
  })

  it('an input field named like a global flag must be renamed', () => {
    const clash = pikkuSessionlessFunc<{ json: string }, void>({
      input: {
        '~standard': {
          version: 1,
          vendor: 'test',
          validate: (value: unknown) => ({ value: value as { json: string } }),
          jsonSchema: { input: () => ({ type: 'object', properties: { json: { type: 'string' } } }), output: () => ({}) },
        },
      } as never,
      name: 'clash',
      func: async () => {},
    })
    expect(() => wireCLI({ program: { name: 'app' }, commands: { clash }, local })).toThrow(/--json, which the CLI reserves/)
  })
})

describe('a credential store other than the file (the keychain extension point)', () => {
  it('keeps the login in the store it is given', async () => {
    const credentials = memoryCredentialStore()
    const cli = wireCLI({ program: { name: 'app' }, commands: { login, whoami, logout }, local: createApp(), credentials })
    const first = io()
    expect(await cli.run(['login', '--user', 'u1'], first)).toBe(0)
    expect(first.stdout.text).toBe('ok: true\n')
    expect(first.stderr.text).toBe('Logged in. The session is saved in the test keychain (default).\n')
    expect(credentials.saved.get('default')).toMatchObject({ origin: 'local', token: expect.stringMatching(/^[\w-]{43}$/) })

    const second = io()
    expect(await cli.run(['whoami', '--json'], second)).toBe(0)
    expect(JSON.parse(second.stdout.text)).toEqual({ userId: 'u1' })

    expect(await cli.run(['logout'], io())).toBe(0)
    expect(credentials.saved.size).toBe(0)
    const third = io()
    expect(await cli.run(['whoami'], third)).toBe(3)
  })

  it('the environment names derive from the program name', () => {
    const cli = wireCLI({ program: { name: 'my-app.cli' }, commands: { whoami }, local: createApp() })
    expect(cli.environment).toEqual({ token: 'MY_APP_CLI_TOKEN', profile: 'MY_APP_CLI_PROFILE', server: 'MY_APP_CLI_SERVER', insecureStorage: 'MY_APP_CLI_INSECURE_STORAGE' })
  })
})

describe('the credentials file, whatever it holds', () => {
  let root: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pikku-cli-inproc-'))
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
  })

  it('never makes a command throw or print a stack trace', async () => {
    const cli = wireCLI({ program: { name: 'app' }, commands: { login, whoami, logout }, local: createApp() })
    const directory = join(root, 'app')
    mkdirSync(directory, { recursive: true, mode: 0o700 })
    const file = join(directory, 'credentials.default.json')
    const contents = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.record({ version: fc.oneof(fc.constant(1), fc.integer()), origin: fc.constantFrom('local', 'http://x'), token: fc.string(), savedAt: fc.integer() }).map((value) => JSON.stringify(value)),
    )
    await fc.assert(
      fc.asyncProperty(contents, fc.constantFrom('whoami', 'logout', 'login'), async (content, command) => {
        writeFileSync(file, content, { mode: 0o600 })
        const streams = io({ XDG_CONFIG_HOME: root })
        const code = await cli.run(command === 'login' ? ['login', '--user', 'u'] : [command], streams)
        // 2: a login saved for a server, which logout in local mode refuses to touch.
        expect([0, 2, 3, 78]).toContain(code)
        expect(streams.stderr.text).not.toMatch(/^\s+at\s/m)
        if (code !== 0) expect(streams.stderr.text.startsWith('Error: ')).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})
