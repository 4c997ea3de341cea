import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { connectTestClient } from '@pikku/channel/testing'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { ALICE, chromiumAvailable, useDemoInChromium } from './demo-harness.test-support.js'

// The page's "Where you're signed in" section in Chromium: the list with this device marked, a
// "Sign out" button per row and "Sign out everywhere else".

const available = await chromiumAvailable()

describe.skipIf(!available)("the demo page's \"Where you're signed in\" in a real browser", () => {
  const demo = useDemoInChromium()

  async function signInOnPage(): Promise<Page> {
    const context = await demo.browser.newContext()
    const page = await context.newPage()
    await page.goto(demo.origin)
    await page.fill('#password', ALICE.password)
    await page.click('#login')
    await expect.poll(() => page.textContent('#profile-email')).toBe(ALICE.email)
    return page
  }

  /** Alice signs in elsewhere: a phone app with a bearer token. */
  async function phoneLogin(userAgent: string): Promise<string> {
    const response = await demo.harness.client().request('POST', '/login', { body: ALICE, headers: { 'user-agent': userAgent }, cookies: false })
    expect(response.status).toBe(200)
    return response.body.token as string
  }

  const rows = (page: Page): Promise<{ handle: string; current: boolean; text: string }[]> =>
    page.$$eval('#session-rows tr', (trs) => trs.map((tr) => ({ handle: (tr as HTMLElement).dataset['handle']!, current: (tr as HTMLElement).dataset['current'] === 'true', text: tr.textContent ?? '' })))

  it('lists the sessions with this device marked; Sign out ends one, then Sign out everywhere else ends the rest', async () => {
    const page = await signInOnPage()
    await expect.poll(() => page.isVisible('#sessions')).toBe(true)
    await expect.poll(async () => (await rows(page)).length).toBe(1)
    const [own] = await rows(page)
    expect(own).toMatchObject({ current: true })
    expect(own!.text).toContain('(this device)')
    expect(own!.text).toMatch(/Chrome/)

    const phone = await phoneLogin('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1')
    const tablet = await phoneLogin('Mozilla/5.0 (Linux; Android 14; Pixel Tablet) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36')
    const socket = await connectTestClient(`${demo.harness.demo.url.replace('http://', 'ws://')}/ws`, { origin: demo.harness.demo.url })
    expect((await socket.call('login', ALICE)).error).toBeUndefined()
    await page.reload()
    await expect.poll(async () => (await rows(page)).length).toBe(4)
    expect((await rows(page)).filter((row) => row.current)).toHaveLength(1)

    // Sign out the iPhone from its row.
    const iphone = (await rows(page)).find((row) => row.text.includes('iOS'))!
    await page.click(`#session-rows tr[data-handle="${iphone.handle}"] button.sign-out`)
    await expect.poll(async () => (await rows(page)).length).toBe(3)
    expect((await rows(page)).map((row) => row.handle)).not.toContain(iphone.handle)
    expect((await demo.harness.client().request('GET', '/profile', { headers: { authorization: `Bearer ${phone}` }, cookies: false })).status).toBe(401)
    expect((await demo.harness.client().request('GET', '/profile', { headers: { authorization: `Bearer ${tablet}` }, cookies: false })).status).toBe(200)

    // Sign out everywhere else: only this device is left; the tablet and the socket are signed out.
    await page.click('#revoke-others')
    await expect.poll(() => page.textContent('#sessions-status')).toBe('Signed out of 2 other sessions.')
    // The status is shown as soon as the server answers; the list follows once it is fetched again.
    await expect.poll(async () => (await rows(page)).length).toBe(1)
    expect(await rows(page)).toEqual([expect.objectContaining({ handle: own!.handle, current: true })])
    expect(await page.isDisabled('#revoke-others')).toBe(true)
    expect((await demo.harness.client().request('GET', '/profile', { headers: { authorization: `Bearer ${tablet}` }, cookies: false })).status).toBe(401)
    expect((await socket.nextEvent('session', 1_000)).data).toEqual({ state: 'revoked' })
    await socket.close()

    // Signing this device out from its own row signs the page out.
    await page.click(`#session-rows tr[data-handle="${own!.handle}"] button.sign-out`)
    await expect.poll(() => page.textContent('#status')).toBe('You are not signed in.')
    expect(await page.isVisible('#sessions')).toBe(false)
    await page.context().close()
  }, 60_000)

  it('shows a client label as text, never as markup', async () => {
    // An MCP client names itself: its name is the session's label, whatever it holds.
    const agent = new Client({ name: '<img src=x onerror="document.title=1">', version: '1.0' })
    await agent.connect(new StreamableHTTPClientTransport(new URL(`${demo.harness.demo.url}/mcp`)))
    expect((await agent.callTool({ name: 'login', arguments: ALICE })).isError).toBeFalsy()
    const page = await signInOnPage()
    await expect.poll(async () => (await rows(page)).some((row) => row.text.includes('<img src=x'))).toBe(true)
    expect(await page.$$('#session-rows img')).toHaveLength(0)
    expect(await page.title()).toBe('Pikku Sessions demo')
    await page.click('#revoke-others')
    await expect.poll(async () => (await rows(page)).length).toBe(1)
    await agent.close()
    await page.context().close()
  }, 60_000)
})
