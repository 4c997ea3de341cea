import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runDemoCLI } from './demo-cli.test-support.js'
import { ADMIN, ALICE, startHarness, type Harness } from './demo-harness.test-support.js'

// `pikku-demo logout --all` against a running demo: alice signed in with a cookie over HTTP and
// with the CLI's password login; logging out of everything from the CLI ends both.
// The browser (`--web`) login's case is in cli-oauth.test.ts.

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

let harness: Harness
let root: string
let env: Record<string, string>

beforeAll(async () => {
  harness = await startHarness({ secureCookies: false })
}, 30_000)
afterAll(async () => {
  await harness?.close()
})
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pikku-demo-logout-all-'))
  // No D-Bus session, so no keychain: the credentials file keeps the token, as this setting allows.
  env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'config'), PIKKU_DEMO_INSECURE_STORAGE: '1' }
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

const cli = (args: string[]) => runDemoCLI(CLI, [...args, '--server', harness.demo.url], env)
const savedToken = (): string => (JSON.parse(readFileSync(join(root, 'config', 'pikku-demo', 'credentials.default.json'), 'utf8')) as { token: string }).token

async function rpcStatus(token: string): Promise<number> {
  const response = await fetch(`${harness.demo.url}/rpc/getProfile`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
  await response.body?.cancel()
  return response.status
}

describe('pikku-demo logout --all', () => {
  it('ends alice\'s cookie session and the CLI\'s own: both get 401, another user stays signed in', async () => {
    const alice = harness.client()
    expect((await alice.request('POST', '/login', { body: ALICE })).status).toBe(200)
    const admin = harness.client()
    expect((await admin.request('POST', '/login', { body: ADMIN })).status).toBe(200)
    const login = await cli(['login', '--email', ALICE.email, '--password', ALICE.password])
    expect(login.code, login.stderr).toBe(0)
    const token = savedToken()
    expect((await alice.request('GET', '/profile')).status).toBe(200)
    expect(await rpcStatus(token)).toBe(200)

    const logout = await cli(['logout', '--all'])
    expect(logout.code, logout.stderr).toBe(0)
    expect(logout.stderr).toContain('Ended 1 other session of yours.')
    expect((await alice.request('GET', '/profile')).status).toBe(401)
    expect(await rpcStatus(token)).toBe(401)
    expect((await admin.request('GET', '/profile')).status).toBe(200)
  }, 60_000)

  it('--help lists --all', async () => {
    const help = await cli(['logout', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--all')
  }, 30_000)
})
