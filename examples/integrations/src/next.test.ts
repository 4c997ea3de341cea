import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { testServiceAvailable } from '@pikku/core/testing'
import { describeHostScenario, ScenarioClient, type RunningHost } from '@pikku/framework-testkit'
import { chromium } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'

// The Next.js recipe as a real app: `next build` (which type-checks it) and `next start`, driven
// over HTTP by the host scenario, and in Chromium for a server component and a server action.

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const next = join(root, 'node_modules', '.bin', 'next')
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

let server: ChildProcess | undefined
let started: Promise<string> | undefined
afterAll(() => {
  // Ends `next start` and anything it started (its process group).
  if (server?.pid !== undefined && server.exitCode === null) process.kill(-server.pid, 'SIGTERM')
})

function run(args: readonly string[], until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(next, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    if (until !== undefined) server = child
    let output = ''
    const read = (chunk: Buffer): void => {
      output += chunk.toString('utf8')
      const match = until?.exec(output)
      if (match != null) resolve(match[1]!)
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.on('exit', (code) => (code === 0 && until === undefined ? resolve(output) : reject(new Error(`next ${args.join(' ')} exited with ${code}:\n${output}`))))
  })
}

/** Builds the app once and starts it on a free port; the tests share it. */
function nextApp(): Promise<RunningHost> {
  started ??= run(['build', 'next-app']).then(() => run(['start', 'next-app', '-p', '0', '-H', '127.0.0.1'], /Local:\s+(http:\/\/\S+)/))
  return started.then((base) => ({ base, pikku: '/api', close: async () => undefined }))
}

describeHostScenario('the Next.js recipe (next build, next start)', nextApp)

const browserAvailable = await testServiceAvailable({
  name: 'Chromium (the Next.js server action test)',
  where: CHROMIUM,
  hint: 'apt-get install chromium (.ci/run does), or set CHROMIUM_PATH',
  probe: async () => {
    if (!existsSync(CHROMIUM)) throw new Error('no such file')
  },
})

describe.skipIf(!browserAvailable)('the Next.js recipe in Chromium', () => {
  it('a server component reads the session, and a server action changes it through getSession()', async () => {
    const { base } = await nextApp()
    // Chromium keeps Secure cookies for http://localhost (a secure context).
    const origin = base.replace('127.0.0.1', 'localhost')
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    })
    try {
      const page = await browser.newPage()
      await page.goto(`${origin}/about`)
      expect(await page.textContent('#user')).toBe('Not signed in')
      await page.goto(`${origin}/auth/callback?code=alice`)
      await page.goto(`${origin}/about`)
      expect(await page.textContent('#user')).toBe('Signed in as alice@example.com')
      expect(await page.textContent('#theme')).toBe('none')

      await page.fill('input[name=theme]', 'solarized')
      await page.click('button[type=submit]')
      await expect.poll(() => page.textContent('#theme'), { timeout: 15_000 }).toBe('solarized')

      // The Pikku routes see the change the server action stored.
      const cookies = await page.context().cookies(origin)
      const client = new ScenarioClient(base)
      const profile = await client.get('/api/profile', { withoutJar: true, headers: { cookie: cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') } })
      expect(profile.body.preferences).toEqual({ theme: 'solarized' })
    } finally {
      await browser.close()
    }
  }, 120_000)
})
