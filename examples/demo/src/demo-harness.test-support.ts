import { existsSync } from 'node:fs'
import { createMemoryStore, silentLogger, type SessionStore } from '@pikku/core'
import { createTestClock, testServiceAvailable, type TestClock } from '@pikku/core/testing'
import { chromium, type Browser } from 'playwright-core'
import { CookieJar } from 'tough-cookie'
import { afterAll, beforeAll } from 'vitest'
import { createDemoApp, type DemoApp } from './app.js'
import { startDemoServer, type DemoServer } from './server.js'
import type { UserSession } from './types.js'

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnop'

export interface Harness {
  readonly app: DemoApp
  readonly demo: DemoServer
  readonly clock: TestClock
  readonly store: SessionStore<UserSession>
  readonly log: string[]
  /** A browser-like client: keeps cookies, sends the demo's own Origin on unsafe requests. */
  client(): DemoClient
  close(): Promise<void>
}

export interface DemoClient {
  readonly jar: CookieJar
  request(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; cookies?: boolean }): Promise<{ status: number; headers: Headers; body: any }>
}

export async function startHarness(options: { secureCookies?: boolean; store?: SessionStore<UserSession>; host?: string } = {}): Promise<Harness> {
  const clock = createTestClock(Date.now())
  const store = options.store ?? createMemoryStore<UserSession>({ clock: clock.now, sweepInterval: 0 })
  const app = createDemoApp({ secrets: [TEST_SECRET], secureCookies: options.secureCookies ?? false, store, clock: clock.now, logger: silentLogger })
  const log: string[] = []
  const demo = await startDemoServer({ app, port: 0, host: options.host ?? '127.0.0.1', log: (line) => log.push(line) })
  return {
    app,
    demo,
    clock,
    store,
    log,
    client() {
      const jar = new CookieJar()
      return {
        jar,
        async request(method, path, requestOptions = {}) {
          const url = `${demo.url}${path}`
          const headers: Record<string, string> = { ...requestOptions.headers }
          if (requestOptions.cookies !== false) {
            const cookie = await jar.getCookieString(url)
            if (cookie !== '') headers['cookie'] = cookie
          }
          if (method !== 'GET' && headers['origin'] === undefined) headers['origin'] = demo.url
          if (requestOptions.body !== undefined) headers['content-type'] ??= 'application/json'
          const response = await fetch(url, {
            method,
            headers,
            body: requestOptions.body === undefined ? undefined : typeof requestOptions.body === 'string' ? requestOptions.body : JSON.stringify(requestOptions.body),
          })
          for (const setCookie of response.headers.getSetCookie()) await jar.setCookie(setCookie, url)
          const text = await response.text()
          let body: unknown = text
          try {
            body = JSON.parse(text)
          } catch {
            // Not JSON: keep the text.
          }
          return { status: response.status, headers: response.headers, body }
        },
      }
    },
    close: () => demo.close(),
  }
}

export const ALICE = { email: 'alice@example.com', password: 'alice-password' }
export const ADMIN = { email: 'admin@example.com', password: 'admin-password' }

/** Debian's Chromium (or CHROMIUM_PATH), for the browser tests. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

// The flags every browser test launches Chromium with: headless, and nothing that phones home.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']

/** Launches Debian's Chromium headless, with the flags every browser test uses and `extraArgs`. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] })
}

export interface DemoInChromium {
  readonly harness: Harness
  readonly browser: Browser
  /**
   * The demo at http://localhost:<port>. Secure cookies stay on: Chromium treats localhost as a
   * secure context, so the production cookie attributes are what the browser gets.
   */
  readonly origin: string
}

/**
 * The demo (secure cookies, on 127.0.0.1) and a Chromium, started before the tests of the describe
 * block this is called in and closed after them.
 */
export function useDemoInChromium(): DemoInChromium {
  let harness: Harness | undefined
  let browser: Browser | undefined
  beforeAll(async () => {
    harness = await startHarness({ secureCookies: true, host: '127.0.0.1' })
    browser = await launchChromium()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await harness?.close()
  })
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useDemoInChromium: the demo is only running during the tests of its describe block')
    return value
  }
  return {
    get harness() {
      return started(harness)
    },
    get browser() {
      return started(browser)
    },
    get origin() {
      return started(harness).demo.url.replace('127.0.0.1', 'localhost')
    },
  }
}

/** Whether Chromium is installed (skip locally, fail under CI: core's test-service policy). */
export function chromiumAvailable(): Promise<boolean> {
  return testServiceAvailable({
    name: 'Chromium (browser tests)',
    where: CHROMIUM,
    hint: 'apt-get install chromium (.ci/run does), or set CHROMIUM_PATH',
    probe: async () => {
      if (!existsSync(CHROMIUM)) throw new Error('no such file')
    },
  })
}
