import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumAvailable, launchChromium, startHarness, type Harness } from './demo-harness.test-support.js'

const available = await chromiumAvailable()

describe.skipIf(!available)('the demo in a real browser', () => {
  let harness: Harness
  let browser: Browser
  let origin: string

  beforeAll(async () => {
    // Secure cookies stay ON: Chromium treats http://localhost as a secure context, so this proves
    // the production cookie attributes work in a browser.
    harness = await startHarness({ secureCookies: true, host: '127.0.0.1' })
    origin = harness.demo.url.replace('127.0.0.1', 'localhost')
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await harness?.close()
  })

  it('logs in through the page, keeps the session across a reload, and loses it after logout', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(origin)
    await expect.poll(() => page.textContent('#status')).toBe('You are not signed in.')

    await page.fill('#password', 'alice-password')
    await page.click('#login')
    await expect.poll(() => page.textContent('#profile-email')).toBe('alice@example.com')

    const [cookie] = await context.cookies(origin)
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' })
    // The page's script cannot read an HttpOnly cookie.
    expect(await page.evaluate(() => document.cookie)).toBe('')

    await page.reload()
    await expect.poll(() => page.textContent('#status')).toBe('You have a session.')
    expect(await page.textContent('#profile-email')).toBe('alice@example.com')

    await page.click('#logout')
    await expect.poll(() => page.textContent('#status')).toBe('You are not signed in.')
    await page.reload()
    await expect.poll(() => page.textContent('#status')).toBe('You are not signed in.')
    expect(await context.cookies(origin)).toEqual([])
    await context.close()
  }, 60_000)

  it('shows the error for a wrong password', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(origin)
    await page.fill('#password', 'wrong')
    await page.click('#login')
    await expect.poll(() => page.textContent('#error')).toBe('Invalid credentials')
    await context.close()
  }, 60_000)
})
