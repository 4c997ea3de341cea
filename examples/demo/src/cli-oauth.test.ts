import { type ChildProcess, spawn } from 'node:child_process'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runDemoCLI } from './demo-cli.test-support.js'
import { ADMIN, ALICE, chromiumAvailable, launchChromium, startHarness, type Harness } from './demo-harness.test-support.js'

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

const credentialsFile = (account = 'default'): string => join(root, 'config', 'pikku-demo', `credentials.${account}.json`)
interface Saved {
  token: string
  user?: string
  userId?: string
  oauth: { refreshToken: string; expiresAt: number; clientId: string; resource: string }
}
const saved = (account = 'default'): Saved => JSON.parse(readFileSync(credentialsFile(account), 'utf8')) as Saved
const clientsFile = (): string => join(root, 'config', 'pikku-demo', 'clients.json')

/** A CLI process whose stderr is watched as it is written. */
interface Running {
  readonly child: ChildProcess
  stderr(): string
  waitFor(pattern: RegExp): Promise<RegExpExecArray>
  exit: Promise<number | null>
}

function start(args: string[], runEnv: Record<string, string> = env): Running {
  const child = spawn(process.execPath, [CLI, ...args, '--server', harness.demo.url], { env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] })
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
async function signIn(page: Page, user: { email: string; password: string } = ALICE): Promise<void> {
  await page.waitForSelector('#password')
  await page.fill('#email', user.email)
  await page.fill('#password', user.password)
  await page.click('#login')
}

/**
 * Starts `login --device` and, in Chromium, enters the code it prints on its verification page;
 * the page is then at the confirmation step.
 */
async function startDeviceLogin(extraArgs: string[] = []): Promise<{ running: Running; page: Page; code: string }> {
  const running = start(['login', '--device', ...extraArgs])
  const [, url, code] = await running.waitFor(/open (\S+) on any device and enter the code:\s+([A-Z]{4}-[A-Z]{4})/)
  const page = await (await browser.newContext()).newPage()
  await page.goto(url as string)
  await page.fill('input[name="user_code"]', code as string)
  await page.click('#device-continue')
  return { running, page, code: code as string }
}

/** Chromium as the user: opens the authorization URL, signs in and approves. */
async function approveInBrowser(url: string, user: { email: string; password: string } = ALICE): Promise<void> {
  const page = await (await browser.newContext()).newPage()
  await page.goto(url)
  await signIn(page, user)
  await page.click('button[name="decision"][value="allow"]')
  await page.waitForSelector('text=You can close this window')
  await page.context().close()
}

async function loginWithBrowser(extraArgs: string[] = [], user: { email: string; password: string } = ALICE): Promise<Running> {
  const running = start(['login', '--web', ...extraArgs])
  const [, url] = await running.waitFor(/Open this URL in a browser to log in:\s+(\S+)/)
  // The CLI's default scope, and the OpenID Connect scopes the demo's server offers.
  expect(new URL(url as string).searchParams.get('scope')).toBe('openid profile mcp:tools')
  await approveInBrowser(url as string, user)
  expect(await running.exit, running.stderr()).toBe(0)
  expect(running.stderr()).toContain(`Logged in to ${harness.demo.url}`)
  return running
}

/** Counts the requests the demo server gets on one path while `run` runs. */
async function countingRequests<T>(path: string, run: () => Promise<T>): Promise<{ result: T; count: number }> {
  let count = 0
  const listener = (req: { url?: string; method?: string }): void => {
    if (req.method === 'POST' && req.url === path) count++
  }
  harness.demo.server.on('request', listener)
  try {
    return { result: await run(), count }
  } finally {
    harness.demo.server.off('request', listener)
  }
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
    // The ID token named the user: the demo's user id and the email its consent page shows.
    expect(whoami.stdout).toContain('user: alice@example.com (id user-alice)')
    expect(credential.user).toBe('alice@example.com')
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
    const { running, page, code } = await startDeviceLogin()
    expect(await page.textContent('body')).toContain(code)
    await page.click('#device-confirm')
    await signIn(page)
    await page.click('button[name="decision"][value="allow"]')
    await page.waitForSelector('text=Device signed in')
    expect(await running.exit).toBe(0)
    expect((await cli(['profile'])).stdout).toContain('alice@example.com')
    await page.context().close()
  }, 60_000)

  it('--device: Cancel on the confirmation page ends the CLI with exit 10 (access_denied)', async () => {
    const { running, page } = await startDeviceLogin()
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
  it('two accounts on one server are told apart by user in `accounts`, and share one registered client', async () => {
    const { count } = await countingRequests('/oauth/register', async () => {
      await loginWithBrowser()
      await loginWithBrowser(['--account', 'work'], ADMIN)
    })
    expect(count).toBe(1)
    const listed = await cli(['accounts'])
    expect(listed.code).toBe(0)
    const lines = listed.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^\* default {2}alice@example\.com \(id user-alice\) {2}http/)
    expect(lines[1]).toMatch(/^ {2}work {2}admin@example\.com \(id user-admin\) {2}http/)
    expect(JSON.parse((await cli(['accounts', '--json'])).stdout)).toEqual([
      expect.objectContaining({ account: 'default', user: 'alice@example.com', userId: 'user-alice' }),
      expect.objectContaining({ account: 'work', user: 'admin@example.com', userId: 'user-admin' }),
    ])
    expect((await cli(['whoami', '--account', 'work'])).stdout).toContain('user: admin@example.com (id user-admin)')
    expect((await cli(['profile', '--account', 'work'])).stdout).toContain('admin@example.com')
    const clientId = saved().oauth.clientId
    expect(saved('work').oauth.clientId).toBe(clientId)
    expect(JSON.parse(readFileSync(clientsFile(), 'utf8'))).toEqual({ version: 1, clients: { [harness.demo.url]: clientId } })
  }, 90_000)

  it('a --device login reuses the client a --web login registered', async () => {
    await loginWithBrowser()
    const { count } = await countingRequests('/oauth/register', async () => {
      const { running, page } = await startDeviceLogin(['--account', 'tv'])
      await page.click('#device-confirm')
      await signIn(page)
      await page.click('button[name="decision"][value="allow"]')
      await page.waitForSelector('text=Device signed in')
      expect(await running.exit).toBe(0)
      await page.context().close()
    })
    expect(count).toBe(0)
    expect(saved('tv').oauth.clientId).toBe(saved().oauth.clientId)
    expect(saved('tv').userId).toBe('user-alice')
  }, 90_000)

  it('a registered client the server no longer knows (invalid_client) is registered again, once, and the new one kept', async () => {
    mkdirSync(join(root, 'config', 'pikku-demo'), { recursive: true, mode: 0o700 })
    writeFileSync(clientsFile(), JSON.stringify({ version: 1, clients: { [harness.demo.url]: 'a-client-the-server-forgot' } }), { mode: 0o600 })
    const { count } = await countingRequests('/oauth/register', () => loginWithBrowser())
    expect(count).toBe(1)
    const clientId = saved().oauth.clientId
    expect(clientId).not.toBe('a-client-the-server-forgot')
    expect(JSON.parse(readFileSync(clientsFile(), 'utf8'))).toEqual({ version: 1, clients: { [harness.demo.url]: clientId } })
    expect((await cli(['profile'])).stdout).toContain('alice@example.com')
  }, 60_000)

  it('a login that cannot be saved (no keychain, no --insecure-storage) is ended on the server: its tokens are refused afterwards', async () => {
    const { PIKKU_DEMO_INSECURE_STORAGE: _allowed, ...noFallback } = env
    const before = (await harness.app.sessions.listUserSessions('user-alice')).map((record) => record.id).sort()
    // What the token endpoint hands the CLI, read off the wire on the server side.
    const issued: string[] = []
    const capture = (req: IncomingMessage, res: ServerResponse): void => {
      if (req.method !== 'POST' || req.url !== '/oauth/token') return
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
      res.end = ((...args: unknown[]) => {
        if (typeof args[0] === 'string' || Buffer.isBuffer(args[0])) issued.push(String(args[0]))
        return end(...args)
      }) as typeof res.end
    }
    harness.demo.server.prependListener('request', capture)
    try {
      const running = start(['login', '--web'], noFallback)
      const [, url] = await running.waitFor(/Open this URL in a browser to log in:\s+(\S+)/)
      await approveInBrowser(url as string)
      expect(await running.exit).toBe(78)
      expect(running.stderr()).toContain('the login was not saved')
      expect(running.stderr()).toContain(`The new session was ended on ${harness.demo.url}`)
    } finally {
      harness.demo.server.off('request', capture)
    }
    expect(existsSync(credentialsFile())).toBe(false)
    expect(issued).toHaveLength(1)
    const tokens = JSON.parse(issued[0] as string) as { access_token: string; refresh_token: string }
    expect(await rpcStatus(tokens.access_token)).toBe(401)
    const refresh = await fetch(`${harness.demo.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: JSON.parse(readFileSync(clientsFile(), 'utf8')).clients[harness.demo.url], resource: `${harness.demo.url}/rpc` }).toString(),
    })
    expect(refresh.status).toBe(400)
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant')
    // Of alice's sessions started by this login, only the browser's own sign-in (a cookie
    // session) is left: the grant's session (credential oauth, labelled cli@<host>) was ended.
    const added = (await harness.app.sessions.listUserSessions('user-alice')).filter((record) => !before.includes(record.id))
    expect(added.map((record) => record.metadata?.credential)).toEqual(['cookie'])
    expect(added.map((record) => record.metadata?.label)).not.toContain(`cli@${hostname()}`)
  }, 60_000)

  it('--web opens the URL through the real opener (the `open` package, its xdg-open, then $BROWSER), and the login completes from the URL it was given', async () => {
    // Stand-ins for the desktop's opener and browser: they record the URL. `open` runs its own
    // copy of xdg-open when that is executable (an installed package), else the one on PATH;
    // without a desktop session, xdg-open hands the URL to $BROWSER.
    const fakes = mkdtempSync(join(tmpdir(), 'pikku-demo-opener-'))
    try {
      const record = join(fakes, 'opened.txt')
      const script = `#!/bin/sh\nprintf '%s %s\\n' "$(basename "$0")" "$1" >> '${record}'\n`
      for (const name of ['xdg-open', 'browser']) writeFileSync(join(fakes, name), script, { mode: 0o755 })
      const { BROWSER: _off, ...rest } = env
      const running = start(['login', '--web'], { ...rest, PATH: `${fakes}:${env['PATH'] ?? ''}`, BROWSER: join(fakes, 'browser') })
      const [, printed] = await running.waitFor(/Open this URL in a browser to log in:\s+(\S+)/)
      await running.waitFor(/\(Opened in your browser\.\)/)
      let opened = ''
      for (let attempt = 0; attempt < 100 && opened === ''; attempt++) {
        opened = existsSync(record) ? readFileSync(record, 'utf8') : ''
        if (opened === '') await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const lines = opened.trim().split('\n')
      expect(lines).toHaveLength(1)
      const [, url] = (lines[0] as string).split(' ')
      expect(url).toBe(printed)
      await approveInBrowser(url as string)
      expect(await running.exit, running.stderr()).toBe(0)
      expect((await cli(['profile'])).stdout).toContain('alice@example.com')
    } finally {
      rmSync(fakes, { recursive: true, force: true })
    }
    expect(existsSync(fakes)).toBe(false)
  }, 60_000)
})
