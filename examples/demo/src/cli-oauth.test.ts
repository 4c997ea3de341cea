import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runDemoCLI } from './demo-cli.test-support.js'
import { ALICE, chromiumAvailable, launchChromium, startHarness, type Harness } from './demo-harness.test-support.js'

// `pikku-demo login --web` and `--device` against a running demo, with Chromium as the user's
// browser: the spawned CLI prints a URL (and a code), Chromium signs in on the demo's login page
// and approves, and the CLI keeps the tokens. Then renewal, logout and the session's label.

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const available = await chromiumAvailable()

let harness: Harness
let browser: Browser
let root: string
let env: Record<string, string>

beforeAll(async () => {
  if (!available) return
  harness = await startHarness({ secureCookies: false })
  browser = await launchChromium()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await harness?.close()
})
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pikku-demo-cli-oauth-'))
  // No DISPLAY and BROWSER=none: the CLI never starts a browser of its own; Chromium plays the
  // user. No D-Bus session: no keychain, so the file keeps the tokens (the setting says so).
  env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'config'), BROWSER: 'none', PIKKU_DEMO_INSECURE_STORAGE: '1' }
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

const credentialsFile = (): string => join(root, 'config', 'pikku-demo', 'credentials.default.json')
interface Saved {
  token: string
  oauth: { refreshToken: string; expiresAt: number; clientId: string; resource: string }
}
const saved = (): Saved => JSON.parse(readFileSync(credentialsFile(), 'utf8')) as Saved

/** A CLI process whose stderr is watched as it is written. */
interface Running {
  readonly child: ChildProcess
  stderr(): string
  waitFor(pattern: RegExp): Promise<RegExpExecArray>
  exit: Promise<number | null>
}

function start(args: string[]): Running {
  const child = spawn(process.execPath, [CLI, ...args, '--server', harness.demo.url], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  const waiters: (() => void)[] = []
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    for (const waiter of waiters.splice(0)) waiter()
  })
  child.stdout?.resume()
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    child,
    stderr: () => stderr,
    exit,
    async waitFor(pattern) {
      for (;;) {
        const found = pattern.exec(stderr)
        if (found !== null) return found
        if (child.exitCode !== null) throw new Error(`the CLI exited (${child.exitCode}) without printing ${pattern}: ${stderr}`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 200)
        })
      }
    },
  }
}

const cli = (args: string[]) => runDemoCLI(CLI, [...args, '--server', harness.demo.url], env)

/** The demo's login page as a person uses it (the email field is prefilled with alice's). */
async function signIn(page: Page): Promise<void> {
  await page.waitForSelector('#password')
  await page.fill('#password', 'alice-password')
  await page.click('#login')
}

async function loginWithBrowser(): Promise<void> {
  const running = start(['login', '--web'])
  const [, url] = await running.waitFor(/Open this URL in a browser to log in:\s+(\S+)/)
  const page = await (await browser.newContext()).newPage()
  await page.goto(url as string)
  await signIn(page)
  await page.click('button[name="decision"][value="allow"]')
  await page.waitForSelector('text=You can close this window')
  expect(await running.exit).toBe(0)
  expect(running.stderr()).toContain(`Logged in to ${harness.demo.url}`)
  await page.context().close()
}

async function rpcStatus(token: string): Promise<number> {
  const response = await fetch(`${harness.demo.url}/rpc/getProfile`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
  await response.body?.cancel()
  return response.status
}

describe.skipIf(!available)('pikku-demo login with a browser or another device', () => {
  it('--web: Chromium opens the printed URL, signs in and approves; the CLI then works as alice, in a session labelled cli@<hostname>', async () => {
    await loginWithBrowser()
    const credential = saved()
    expect(credential.oauth.resource).toBe(`${harness.demo.url}/rpc`)
    const profile = await cli(['profile'])
    expect(profile.code).toBe(0)
    expect(profile.stdout).toContain('alice@example.com')
    const whoami = await cli(['whoami'])
    expect(whoami.code).toBe(0)
    expect(whoami.stdout).toContain(`server: ${harness.demo.url}`)
    expect(whoami.stdout).toContain('access token expires:')
    expect(whoami.stdout).toContain('stored in: file')
    const sessions = await harness.app.sessions.listUserSessions('user-alice')
    const labels = await Promise.all(sessions.map((record) => harness.demo.oauth?.clientOfSession(record.id)))
    expect(labels.map((client) => client?.clientName)).toContain(`cli@${hostname()}`)
  }, 60_000)

  it('--web: Deny in the browser fails the login with exit 10 and saves nothing', async () => {
    const running = start(['login', '--web'])
    const [, url] = await running.waitFor(/Open this URL in a browser to log in:\s+(\S+)/)
    const page = await (await browser.newContext()).newPage()
    await page.goto(url as string)
    await signIn(page)
    await page.click('button[name="decision"][value="deny"]')
    expect(await running.exit).toBe(10)
    expect(running.stderr()).toContain('denied')
    expect(() => saved()).toThrow()
    await page.context().close()
  }, 60_000)

  it('--device: prints the URL and a code; Chromium enters the code, signs in and approves; the CLI, polling, gets the login', async () => {
    const running = start(['login', '--device'])
    const [, url, code] = await running.waitFor(/open (\S+) on any device and enter the code:\s+([A-Z]{4}-[A-Z]{4})/)
    const page = await (await browser.newContext()).newPage()
    await page.goto(url as string)
    await page.fill('input[name="user_code"]', code as string)
    await page.click('#device-continue')
    expect(await page.textContent('body')).toContain(code as string)
    await page.click('#device-confirm')
    await signIn(page)
    await page.click('button[name="decision"][value="allow"]')
    await page.waitForSelector('text=Device signed in')
    expect(await running.exit).toBe(0)
    expect((await cli(['profile'])).stdout).toContain('alice@example.com')
    await page.context().close()
  }, 60_000)

  it('--device: Cancel on the confirmation page ends the CLI with exit 10 (access_denied)', async () => {
    const running = start(['login', '--device'])
    const [, url, code] = await running.waitFor(/open (\S+) on any device and enter the code:\s+([A-Z]{4}-[A-Z]{4})/)
    const page = await (await browser.newContext()).newPage()
    await page.goto(url as string)
    await page.fill('input[name="user_code"]', code as string)
    await page.click('#device-continue')
    await page.click('#device-abort')
    expect(await running.exit).toBe(10)
    expect(running.stderr()).toContain('denied on the verification page')
    await page.context().close()
  }, 60_000)

  it('an expired access token is renewed once by five commands running at the same moment, and the refresh token rotates', async () => {
    await loginWithBrowser()
    const before = saved()
    writeFileSync(credentialsFile(), JSON.stringify({ ...before, version: 1, oauth: { ...before.oauth, expiresAt: Date.now() - 1000 } }), { mode: 0o600 })
    let tokenRequests = 0
    const count = (req: { url?: string; method?: string }): void => {
      if (req.method === 'POST' && req.url === '/oauth/token') tokenRequests++
    }
    harness.demo.server.on('request', count)
    try {
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => cli(['profile'])))
      for (const result of results) {
        expect(result.stderr).not.toContain('Error')
        expect(result.code).toBe(0)
        expect(result.stdout).toContain('alice@example.com')
      }
    } finally {
      harness.demo.server.off('request', count)
    }
    expect(tokenRequests).toBe(1)
    const after = saved()
    expect(after.oauth.refreshToken).not.toBe(before.oauth.refreshToken)
    expect(after.token).not.toBe(before.token)
    expect(after.oauth.expiresAt).toBeGreaterThan(Date.now())
    expect(await rpcStatus(after.token)).toBe(200)
  }, 90_000)

  it('a renewal the server refuses (the session was ended) says to log in again, with exit 3', async () => {
    await loginWithBrowser()
    const before = saved()
    await harness.app.sessions.revokeUser('user-alice')
    writeFileSync(credentialsFile(), JSON.stringify({ ...before, version: 1, oauth: { ...before.oauth, expiresAt: Date.now() - 1000 } }), { mode: 0o600 })
    const profile = await cli(['profile'])
    expect(profile.code).toBe(3)
    expect(profile.stderr).toContain('log in again')
  }, 60_000)

  it('logout revokes the grant on the server: the old access token gets 401, and the saved login is gone', async () => {
    await loginWithBrowser()
    const { token } = saved()
    expect(await rpcStatus(token)).toBe(200)
    const logout = await cli(['logout'])
    expect(logout.code).toBe(0)
    expect(logout.stderr).toContain('the session was ended')
    expect(await rpcStatus(token)).toBe(401)
    expect(() => saved()).toThrow()
    expect((await cli(['profile'])).code).toBe(3)
  }, 60_000)

  it('logout --all with an expired access token renews it, ends alice\'s cookie session, then revokes the grant', async () => {
    const browserUser = harness.client()
    expect((await browserUser.request('POST', '/login', { body: ALICE })).status).toBe(200)
    expect((await browserUser.request('GET', '/profile')).status).toBe(200)
    await loginWithBrowser()
    const before = saved()
    writeFileSync(credentialsFile(), JSON.stringify({ ...before, version: 1, oauth: { ...before.oauth, expiresAt: Date.now() - 1000 } }), { mode: 0o600 })

    const logout = await cli(['logout', '--all'])
    expect(logout.code, logout.stderr).toBe(0)
    expect(logout.stderr).toMatch(/Ended \d+ other sessions? of yours\./)
    expect((await browserUser.request('GET', '/profile')).status).toBe(401)
    expect(await rpcStatus(before.token)).toBe(401)
    expect(() => saved()).toThrow()
  }, 60_000)
})
