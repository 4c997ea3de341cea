import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type CLIResult as Result, runDemoCLI } from './demo-cli.test-support.js'

// `pikku-demo`, the demo's CLI, as people run it: the compiled dist/cli.js in its own process, in
// local mode on the demo's SQLite store and in remote mode against the compiled demo server.

const demoDir = fileURLToPath(new URL('..', import.meta.url))
const buildDir = join(demoDir, 'node_modules', '.cache', 'cli-test')
const CLI = join(buildDir, 'cli.js')
const SERVER = join(buildDir, 'main.js')
const SECRET = 'cli-test-secret-0123456789abcdefghijklmnopqrstuvwxyz'

let root: string
let env: Record<string, string>

beforeAll(async () => {
  // Compile the demo as `pnpm build` does, into a scratch directory inside the package so its
  // dependencies resolve; the tests then run exactly what the bin runs.
  await promisify(execFile)(process.execPath, [join(demoDir, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--outDir', buildDir], {
    cwd: demoDir,
  })
  cpSync(join(demoDir, 'src', 'public'), join(buildDir, 'public'), { recursive: true })
}, 180_000)

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pikku-demo-cli-'))
  env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'config'),
    DATA_DIR: join(root, 'data'),
    SESSION_SECRETS: SECRET,
    // No D-Bus session, so no keychain: the credentials file keeps the token, as this setting allows.
    PIKKU_DEMO_INSECURE_STORAGE: '1',
  }
})
afterEach(() => {
  rmSync(root, { recursive: true, force: true })
})

const credentialsFile = (profile = 'default'): string => join(root, 'config', 'pikku-demo', `credentials.${profile}.json`)
const savedToken = (): string => (JSON.parse(readFileSync(credentialsFile(), 'utf8')) as { token: string }).token

function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Result> {
  return runDemoCLI(CLI, args, { ...env, ...extraEnv })
}

const loginAlice = (...extra: string[]): Promise<Result> => cli(['login', '--email', 'alice@example.com', '--password', 'alice-password', ...extra])

describe('pikku-demo in local mode', () => {
  it('login, profile, preferences, public, logout; then profile fails with exit 3', async () => {
    const login = await loginAlice()
    expect(login.code).toBe(0)
    expect(login.stdout).toContain('email: alice@example.com')
    expect(login.stdout).not.toContain('token')

    const profile = await cli(['profile', '--json'])
    expect(profile.code).toBe(0)
    expect(JSON.parse(profile.stdout)).toMatchObject({ id: 'user-alice', email: 'alice@example.com' })

    const preferences = await cli(['preferences', '--theme', 'dark'])
    expect(preferences).toMatchObject({ code: 0, stdout: 'Preferences saved.\n' })
    expect(JSON.parse((await cli(['profile', '--json'])).stdout)).toMatchObject({ preferences: { theme: 'dark' } })
    expect(JSON.parse((await cli(['public', '--json'])).stdout)).toMatchObject({ email: 'alice@example.com' })

    const logout = await cli(['logout'])
    expect(logout).toMatchObject({ code: 0, stdout: '' })
    expect(logout.stderr).toContain('Logged out.')
    expect(existsSync(credentialsFile())).toBe(false)

    const after = await cli(['profile'])
    expect(after.code).toBe(3)
    expect(after.stderr).toContain('You are not logged in.')
    expect(after.stderr).toContain('Run `pikku-demo login` to sign in.')
    expect(JSON.parse((await cli(['public', '--json'])).stdout)).toEqual({ message: 'Welcome to the Pikku Sessions demo' })
  })

  it('keeps the login in a 0600 file in a 0700 directory and sessions in the SQLite store', async () => {
    expect((await loginAlice()).code).toBe(0)
    expect(statSync(join(root, 'config', 'pikku-demo')).mode & 0o777).toBe(0o700)
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600)
    expect(existsSync(join(root, 'data', 'sessions.db'))).toBe(true)
    expect(JSON.parse(readFileSync(credentialsFile(), 'utf8'))).toMatchObject({ version: 1, origin: 'local' })
  })

  it('a revoked session says so and suggests login, with exit 3', async () => {
    await loginAlice()
    const token = savedToken()
    await cli(['logout'])
    const replay = await cli(['profile'], { PIKKU_DEMO_TOKEN: token })
    expect(replay.code).toBe(3)
    expect(replay.stderr).toContain('Your session has expired or was revoked.')
    expect(replay.stderr).toContain('Run `pikku-demo login` to sign in again.')
  })

  it('--profile keeps alice and admin side by side', async () => {
    await loginAlice()
    await cli(['login', '--email', 'admin@example.com', '--password', 'admin-password', '--profile', 'admin'])
    expect(JSON.parse((await cli(['profile', '--json'])).stdout)).toMatchObject({ role: 'user' })
    expect(JSON.parse((await cli(['profile', '--json', '--profile', 'admin'])).stdout)).toMatchObject({ role: 'admin' })
  })

  it('a wrong password is exit 3; a malformed email is exit 2 naming the flag', async () => {
    const wrong = await cli(['login', '--email', 'alice@example.com', '--password', 'nope'])
    expect(wrong.code).toBe(3)
    expect(wrong.stderr).toContain('Error: Invalid credentials')
    const malformed = await cli(['login', '--email', 'not-an-email', '--password', 'x'])
    expect(malformed.code).toBe(2)
    expect(malformed.stderr).toMatch(/--email: /)
  })

  it('a damaged credentials file gets a clear message and exit 78, not a stack trace', async () => {
    await loginAlice()
    writeFileSync(credentialsFile(), '{"version": 1, "origin": "lo')
    const result = await cli(['profile'])
    expect(result.code).toBe(78)
    expect(result.stderr).toContain('is damaged: not valid JSON (it ends too early: the file is truncated)')
    expect(result.stderr).not.toMatch(/^\s+at\s/m)
  })

  it('help comes from the functions docs', async () => {
    const help = await cli(['--help'])
    expect(help.stdout).toContain('profile      Get current user profile')
    expect(help.stdout).toContain('PIKKU_DEMO_TOKEN')
    const preferences = await cli(['preferences', '--help'])
    expect(preferences.stdout).toContain('--theme <light|dark>')
    expect(preferences.stdout).toContain('Saves preferences (for example theme: dark)')
  })
})

describe('pikku-demo in remote mode against the demo server', () => {
  let server: ChildProcess
  let url: string
  let dataDir: string | undefined

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pikku-demo-cli-server-'))
    server = spawn(process.execPath, [SERVER], {
      env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, SESSION_STORE: 'sqlite', SESSION_SECRETS: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    url = await new Promise<string>((resolve, reject) => {
      let output = ''
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        const match = /listening on (http:\/\/\S+)/.exec(output)
        if (match !== null) resolve(match[1]!)
      }
      server.stdout!.on('data', onData)
      server.stderr!.on('data', onData)
      server.once('exit', (code) => reject(new Error(`the demo server exited with ${code}:\n${output}`)))
    })
  })
  afterAll(async () => {
    if (server?.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve))
      server.kill('SIGTERM')
      await exited
    }
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
  })

  async function rpc(name: string, token: string): Promise<number> {
    const response = await fetch(`${url}/rpc/${name}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    await response.arrayBuffer()
    return response.status
  }

  it('login saves the server token bound to the server; commands use it; logout revokes it on the server', async () => {
    const login = await loginAlice('--server', url)
    expect(login.code).toBe(0)
    expect(login.stderr).toContain(`Logged in to ${url}.`)
    expect(JSON.parse(readFileSync(credentialsFile(), 'utf8'))).toMatchObject({ version: 1, origin: url })
    const token = savedToken()

    expect(JSON.parse((await cli(['profile', '--json', '--server', url])).stdout)).toMatchObject({ email: 'alice@example.com' })
    expect((await cli(['preferences', '--theme', 'dark', '--server', url])).code).toBe(0)
    expect(JSON.parse((await cli(['profile', '--json', '--server', url])).stdout)).toMatchObject({ preferences: { theme: 'dark' } })
    expect(JSON.parse((await cli(['public', '--json', '--server', url])).stdout)).toMatchObject({ email: 'alice@example.com' })
    // Local mode does not borrow the server's token.
    const local = await cli(['profile'])
    expect(local.code).toBe(3)
    expect(local.stderr).toContain(`was issued by ${url}; it is not used in local mode`)

    expect(await rpc('getProfile', token)).toBe(200)
    const logout = await cli(['logout', '--server', url])
    expect(logout.code).toBe(0)
    expect(existsSync(credentialsFile())).toBe(false)
    // Revoked server-side: the old bearer token is refused by the server itself.
    expect(await rpc('getProfile', token)).toBe(401)

    const after = await cli(['profile', '--server', url])
    expect(after.code).toBe(3)
    expect(after.stderr).toContain(`Run \`pikku-demo login --server ${url}\` to sign in.`)
  })

  it('a session revoked on the server gets exit 3 and "expired or revoked"', async () => {
    await loginAlice('--server', url)
    expect(await rpc('logout', savedToken())).toBe(200)
    const result = await cli(['profile', '--server', url])
    expect(result.code).toBe(3)
    expect(result.stderr).toContain('Your session has expired or was revoked.')
    expect(result.stderr).toContain(`Run \`pikku-demo login --server ${url}\` to sign in again.`)
  })
})

describe('pikku-demo shell in a terminal', () => {
  let socket: string | undefined
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket!, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const screen = (): string => tmux('capture-pane', '-p', '-t', 'main', '-S', '-500')
  const type = (text: string): void => {
    tmux('send-keys', '-t', 'main', '-l', text)
    tmux('send-keys', '-t', 'main', 'Enter')
  }
  async function waitFor(test: (text: string) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 15_000
    while (!test(screen())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${screen()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`

  afterEach(() => {
    if (socket !== undefined) {
      try {
        tmux('kill-server')
      } catch {
        // already gone
      }
      socket = undefined
    }
  })

  it('logs in once and runs two commands on that session, then logs out', async () => {
    socket = `pikku-demo-cli-${process.pid}-${randomBytes(4).toString('hex')}`
    const variables = Object.entries({ ...env, TERM: 'xterm' }).map(([name, value]) => `${name}=${quote(value)}`)
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', '160', '-y', '50', `env -i ${variables.join(' ')} ${quote(process.execPath)} ${quote(CLI)} shell; echo "[exited $?]"; sleep 600`)
    await waitFor((text) => /^pikku-demo>\s*$/m.test(text), 'the prompt')

    type('login --email alice@example.com --password alice-password')
    await waitFor((text) => text.includes('Logged in.'), 'the login')
    type('profile')
    await waitFor((text) => text.includes('email:       alice@example.com'), 'the profile')
    type('preferences --theme dark')
    await waitFor((text) => text.includes('Preferences saved.'), 'the preferences')
    type('profile --json')
    await waitFor((text) => text.includes('"preferences":{"theme":"dark"}'), 'the updated profile')
    type('logout')
    await waitFor((text) => text.includes('Logged out.'), 'the logout')
    type('profile')
    await waitFor((text) => text.includes('You are not logged in.'), 'the refusal')
    tmux('send-keys', '-t', 'main', 'C-d')
    await waitFor((text) => text.includes('[exited 0]'), 'the exit')
  })
})
