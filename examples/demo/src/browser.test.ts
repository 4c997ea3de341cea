import { describe, expect, it } from 'vitest'
import { chromiumAvailable, useDemoInChromium } from './demo-harness.test-support.js'

const available = await chromiumAvailable()

describe.skipIf(!available)('the demo in a real browser', () => {
  const demo = useDemoInChromium()

  it('logs in through the page, keeps the session across a reload, and loses it after logout', async () => {
    const context = await demo.browser.newContext()
    const page = await context.newPage()
    await page.goto(demo.origin)
    await expect.poll(() => page.textContent('#status')).toBe('You are not signed in.')

    await page.fill('#password', 'alice-password')
    await page.click('#login')
    await expect.poll(() => page.textContent('#profile-email')).toBe('alice@example.com')

    const [cookie] = await context.cookies(demo.origin)
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
    expect(await context.cookies(demo.origin)).toEqual([])
    await context.close()
  }, 60_000)

  it('shows the error for a wrong password', async () => {
    const context = await demo.browser.newContext()
    const page = await context.newPage()
    await page.goto(demo.origin)
    await page.fill('#password', 'wrong')
    await page.click('#login')
    await expect.poll(() => page.textContent('#error')).toBe('Invalid credentials')
    await context.close()
  }, 60_000)
})
