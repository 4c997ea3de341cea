import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE, chromiumAvailable, launchChromium, startHarness, type Harness, useDemoInChromium } from './demo-harness.test-support.js'

const available = await chromiumAvailable()

/**
 * A non-loopback IPv4 address of this machine. A server listening on a loopback address accepts
 * pages of every loopback origin (any port: they are as local as the server), so the cross-origin
 * case needs the demo on a real interface, reached under names the browser maps to it.
 */
function externalAddress(): string | undefined {
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address
  }
  return undefined
}
const external = externalAddress()

interface SocketOutcome {
  opened: boolean
  closeCode?: number
  frames: unknown[]
}

/**
 * In the page: opens the demo's socket (the browser adds Origin and cookies itself), optionally
 * sends calls and runs `afterOpen`, and reports what happened.
 */
async function openSocketInPage(page: Page, url: string, options: { calls?: { id: number; func: string; data?: unknown }[]; logoutAfterOpen?: boolean; waitForEvent?: boolean } = {}): Promise<SocketOutcome> {
  return page.evaluate(
    ({ url, calls, logoutAfterOpen, waitForEvent }) =>
      new Promise<SocketOutcome>((resolve) => {
        const outcome: SocketOutcome = { opened: false, frames: [] }
        const socket = new WebSocket(url, ['pikku.v1'])
        let expected = calls.length
        const done = (): void => {
          socket.close()
          resolve(outcome)
        }
        socket.onopen = async () => {
          outcome.opened = true
          for (const call of calls) socket.send(JSON.stringify(call))
          if (logoutAfterOpen) await fetch('/logout', { method: 'POST', credentials: 'same-origin' })
          if (expected === 0 && !waitForEvent) done()
        }
        socket.onmessage = (message) => {
          const frame = JSON.parse(message.data as string) as { event?: string }
          outcome.frames.push(frame)
          if (frame.event !== undefined) {
            if (waitForEvent) done()
            return
          }
          expected--
          if (expected === 0 && !waitForEvent) done()
        }
        socket.onclose = (event) => {
          outcome.closeCode = event.code
          resolve(outcome)
        }
        setTimeout(() => resolve(outcome), 5_000)
      }),
    { url, calls: options.calls ?? [], logoutAfterOpen: options.logoutAfterOpen ?? false, waitForEvent: options.waitForEvent ?? false },
  )
}

describe.skipIf(!available)('the demo channel in a real browser', () => {
  const demo = useDemoInChromium()
  const wsUrl = (): string => `${demo.origin.replace('http://', 'ws://')}/ws`

  async function loggedInPage(): Promise<Page> {
    const context = await demo.browser.newContext()
    const page = await context.newPage()
    await page.goto(demo.origin)
    const status = await page.evaluate(async (credentials) => {
      const response = await fetch('/login', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials) })
      return response.status
    }, ALICE)
    expect(status).toBe(200)
    return page
  }

  it('a page logged in over HTTP is logged in on its WebSocket', async () => {
    const page = await loggedInPage()
    const outcome = await openSocketInPage(page, wsUrl(), { calls: [{ id: 1, func: 'getProfile' }] })
    expect(outcome.opened).toBe(true)
    expect(outcome.frames).toEqual([{ id: 1, result: expect.objectContaining({ email: ALICE.email }) }])
    await page.context().close()
  }, 60_000)

  it('logging out over HTTP in the page clears the open socket\'s session', async () => {
    const page = await loggedInPage()
    const outcome = await openSocketInPage(page, wsUrl(), { logoutAfterOpen: true, waitForEvent: true })
    expect(outcome.opened).toBe(true)
    expect(outcome.frames).toContainEqual({ event: 'session', data: { state: 'cleared' } })
    await page.context().close()
  }, 60_000)
})

describe.skipIf(!available || external === undefined)('the demo channel refuses other origins in a real browser', () => {
  // The demo at http://app.test:<port> and a page at http://evil.app.test:<port>: another origin on
  // the same site, so the browser sends the session cookie with the page's WebSocket handshake and
  // only the Origin check stands between that page and the visitor's session.
  let harness: Harness
  let browser: Browser
  let sibling: Server
  let appOrigin: string
  let siblingOrigin: string

  beforeAll(async () => {
    harness = await startHarness({ secureCookies: false, host: external! })
    appOrigin = `http://app.test:${new URL(harness.demo.url).port}`
    sibling = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end('<!doctype html><title>sibling</title><p>another origin on the same site</p>')
    })
    await new Promise<void>((resolve) => sibling.listen(0, external!, resolve))
    siblingOrigin = `http://evil.app.test:${(sibling.address() as AddressInfo).port}`
    browser = await launchChromium([`--host-resolver-rules=MAP app.test ${external}, MAP evil.app.test ${external}`])
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise<void>((resolve) => (sibling ? sibling.close(() => resolve()) : resolve()))
    await harness?.close()
  })

  it("a page on another origin cannot open a socket with the visitor's cookie", async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(appOrigin)
    const status = await page.evaluate(async (credentials) => {
      const response = await fetch('/login', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials) })
      return response.status
    }, ALICE)
    expect(status).toBe(200)
    const wsUrl = `${appOrigin.replace('http://', 'ws://')}/ws`
    // From the app's own origin the socket is the visitor's...
    const own = await openSocketInPage(page, wsUrl, { calls: [{ id: 1, func: 'getProfile' }] })
    expect(own.frames).toEqual([{ id: 1, result: expect.objectContaining({ email: ALICE.email }) }])
    // ...from the sibling origin it is refused before it opens.
    await page.goto(siblingOrigin)
    const outcome = await openSocketInPage(page, wsUrl, { calls: [{ id: 1, func: 'getProfile' }] })
    expect(outcome.opened).toBe(false)
    expect(outcome.frames).toEqual([])
    expect(outcome.closeCode).toBe(1006)
    await context.close()
  }, 60_000)
})
