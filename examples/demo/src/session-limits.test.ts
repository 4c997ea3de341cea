import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE, startHarness, type Harness } from './demo-harness.test-support.js'

// Issue 15, points 6 and 7, against the demo over HTTP: a session cannot be made huge, and field
// names that change prototypes never enter it.

let harness: Harness

beforeAll(async () => {
  harness = await startHarness()
})
afterAll(async () => {
  await harness.close()
})

/** Logs a new browser in; returns it with its session token (the cookie's value). */
async function loggedIn() {
  const browser = harness.client()
  expect((await browser.request('POST', '/login', { body: ALICE })).status).toBe(200)
  const cookie = await browser.jar.getCookieString(harness.demo.url)
  return { browser, token: cookie.slice(cookie.indexOf('=') + 1) }
}

describe('the session size is bounded', () => {
  it('about 1 MiB of preferences gets 413, and the session stays as it was', async () => {
    const { browser, token } = await loggedIn()
    expect((await browser.request('PUT', '/preferences', { body: { theme: 'dark' } })).status).toBe(200)
    const before = await harness.app.sessions.loadByToken(token)

    // The demo's schema takes any number of short string fields; the body stays under the
    // server's 1 MiB body limit, so the refusal is the session's own.
    const huge: Record<string, string> = { theme: 'light' }
    for (let i = 0; i < 4_700; i++) huge[`field${i}`] = 'x'.repeat(200)
    const body = JSON.stringify(huge)
    expect(body.length).toBeGreaterThan(950_000)
    expect(body.length).toBeLessThan(1_048_576)
    const refused = await browser.request('PUT', '/preferences', { body })
    expect(refused.status).toBe(413)
    expect(refused.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { maxSessionBytes: 65_536 } })
    expect(refused.body.error.details.sessionBytes).toBeGreaterThan(body.length)
    expect(refused.headers.getSetCookie()).toEqual([])

    const after = await harness.app.sessions.loadByToken(token)
    expect(after).toEqual(before)
    expect(after?.data.preferences).toEqual({ theme: 'dark' })
    // Still logged in, with the same cookie, and a normal change still works.
    expect((await browser.request('GET', '/profile')).status).toBe(200)
    expect((await browser.request('PUT', '/preferences', { body: { theme: 'light', language: 'fi' } })).status).toBe(200)
    expect((await harness.app.sessions.loadByToken(token))?.data.preferences).toEqual({ theme: 'light', language: 'fi' })
    await browser.request('POST', '/logout')
  })
})

describe('fields named __proto__, constructor or prototype never enter the session', () => {
  it('preferences with a "constructor" field get 400 and the session stays as it was', async () => {
    const { browser, token } = await loggedIn()
    const before = await harness.app.sessions.loadByToken(token)
    const refused = await browser.request('PUT', '/preferences', { body: '{"theme": "dark", "constructor": "polluted"}' })
    expect(refused.status).toBe(400)
    expect(refused.body.error.code).toBe('BAD_REQUEST')
    expect(refused.body.error.message).toContain('"constructor"')
    expect(await harness.app.sessions.loadByToken(token)).toEqual(before)
    await browser.request('POST', '/logout')
  })
})
