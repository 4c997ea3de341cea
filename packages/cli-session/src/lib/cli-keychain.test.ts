import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { testServiceAvailable } from '@pikku/core/testing'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createWorkspace, runCLI, type Workspace } from './cli-process.test-support.js'

// The OS keychain for real: gnome-keyring's Secret Service in a private D-Bus session (never the
// user's own), started for this file, and the same CLI without any keychain.

function which(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

const available = await testServiceAvailable({
  name: 'a Secret Service (gnome-keyring-daemon under dbus-run-session)',
  where: 'dbus-run-session, gnome-keyring-daemon',
  hint: 'apt-get install gnome-keyring dbus (.ci/run does)',
  probe: async () => {
    if (which('dbus-run-session') === undefined || which('gnome-keyring-daemon') === undefined) throw new Error('not installed')
  },
})

let workspace: Workspace
let bus: ChildProcess | undefined
let busAddress = ''
let keyringHome: Workspace | undefined

beforeAll(async () => {
  if (!available) return
  keyringHome = createWorkspace()
  const runtimeDir = join(keyringHome.root, 'run')
  // A private bus whose address the shell prints, with an unlocked keyring on
  // it; the process lives until the tests end and is killed by its own pid.
  const script = [
    `mkdir -p -m 700 "${runtimeDir}"`,
    // In the foreground, so it stays in this process group and ends with it.
    "printf 'keyring-test-password' | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &",
    'for i in $(seq 100); do dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true && break; sleep 0.05; done',
    'echo "BUS=$DBUS_SESSION_BUS_ADDRESS"',
    'wait',
  ].join('\n')
  bus = spawn('dbus-run-session', ['--', 'sh', '-c', script], {
    detached: true,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(keyringHome.root, 'home'), XDG_RUNTIME_DIR: runtimeDir, XDG_DATA_HOME: join(keyringHome.root, 'data') },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  busAddress = await new Promise<string>((resolve, reject) => {
    let out = ''
    bus?.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const found = /BUS=(\S+)/.exec(out)
      if (found !== null) resolve(found[1] as string)
    })
    bus?.on('exit', () => reject(new Error(`dbus-run-session ended: ${out}`)))
  })
}, 30_000)
afterAll(() => {
  // The whole group: dbus-run-session, its bus and the keyring daemon.
  if (bus?.pid !== undefined) process.kill(-bus.pid, 'SIGTERM')
  keyringHome?.cleanup()
})
beforeEach(() => {
  workspace = createWorkspace()
})
afterEach(() => workspace.cleanup())

const withKeychain = (): Record<string, string | undefined> => ({ DBUS_SESSION_BUS_ADDRESS: busAddress, FIXTURE_APP_INSECURE_STORAGE: undefined })
const withoutKeychain = { FIXTURE_APP_INSECURE_STORAGE: undefined }
const login = ['login', 'alice@example.com', '--password', 'alice-password']

describe.skipIf(!available)('the OS keychain (Secret Service)', () => {
  it('keeps the token in the keychain and only metadata in the file; commands use it; logout deletes both', async () => {
    const loggedIn = await runCLI(workspace, login, { env: withKeychain() })
    expect(loggedIn.stderr).toContain('The session is saved in the OS keychain')
    expect(loggedIn.code).toBe(0)
    const file = JSON.parse(readFileSync(workspace.credentialsFile(), 'utf8')) as Record<string, unknown>
    expect(file).toMatchObject({ version: 1, origin: 'local', storage: 'keychain', token: 'keychain' })
    const whoami = await runCLI(workspace, ['whoami'], { env: withKeychain() })
    expect(whoami.code).toBe(0)
    expect(whoami.stdout).toContain('alice@example.com')
    // Without the keychain the metadata alone logs nobody in: the token is not in the file.
    const elsewhere = await runCLI(workspace, ['whoami'], { env: withoutKeychain })
    expect(elsewhere.code).toBe(78)
    expect(elsewhere.stderr).toContain('keychain cannot be reached')
    expect((await runCLI(workspace, ['logout'], { env: withKeychain() })).code).toBe(0)
    expect(existsSync(workspace.credentialsFile())).toBe(false)
    // Logging in again finds no stale entry, and a fresh session is saved.
    expect((await runCLI(workspace, login, { env: withKeychain() })).code).toBe(0)
  })

  it('two profiles are two keychain entries', async () => {
    await runCLI(workspace, login, { env: withKeychain() })
    await runCLI(workspace, ['login', 'bob@example.com', '--password', 'bob-password', '--profile', 'work'], { env: withKeychain() })
    expect((await runCLI(workspace, ['whoami'], { env: withKeychain() })).stdout).toContain('alice@example.com')
    expect((await runCLI(workspace, ['whoami', '--profile', 'work'], { env: withKeychain() })).stdout).toContain('bob@example.com')
  })
})

describe('without a keychain', () => {
  it('refuses to write the secret to the file unless told to, and says how', async () => {
    const refused = await runCLI(workspace, login, { env: withoutKeychain })
    expect(refused.code).toBe(78)
    expect(refused.stderr).toContain('--insecure-storage or FIXTURE_APP_INSECURE_STORAGE=1')
    expect(existsSync(workspace.credentialsFile())).toBe(false)
  })

  it('with --insecure-storage writes the file (0600) and warns each time a secret is written there', async () => {
    const saved = await runCLI(workspace, [...login, '--insecure-storage'], { env: withoutKeychain })
    expect(saved.code).toBe(0)
    expect(saved.stderr).toContain('the secret was written in plain text to')
    const file = JSON.parse(readFileSync(workspace.credentialsFile(), 'utf8')) as Record<string, unknown>
    expect(file['storage']).toBeUndefined()
    expect(String(file['token']).length).toBeGreaterThan(20)
    const again = await runCLI(workspace, login, { env: { FIXTURE_APP_INSECURE_STORAGE: '1' } })
    expect(again.stderr).toContain('the secret was written in plain text to')
    // Reading it needs no flag: only writing a secret there does.
    expect((await runCLI(workspace, ['whoami'], { env: withoutKeychain })).code).toBe(0)
  })
})
