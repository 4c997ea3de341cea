import { afterEach, describe, expect, it } from 'vitest'
import { mcpStatus, startTestApp, TestBrowser, tokenRequest, type TestApp } from './test-app.test-support.js'

let app: TestApp | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

async function registerDeviceClient(target: TestApp): Promise<string> {
  const response = await fetch(`${target.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'cli@test-host',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      response_types: ['code'],
    }),
  })
  expect(response.status).toBe(201)
  return ((await response.json()) as { client_id: string }).client_id
}

interface DeviceAuthorization {
  device_code: string
  user_code: string
  verification_uri: string
  interval: number
}

async function startDevice(target: TestApp, clientId: string): Promise<DeviceAuthorization> {
  const response = await fetch(`${target.url}/oauth/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, scope: 'mcp:tools', resource: target.mcpUrl }).toString(),
  })
  expect(response.status).toBe(200)
  return (await response.json()) as DeviceAuthorization
}

/** Posts a form found on `html` (the code-entry or confirmation page) as the same-origin browser would. */
async function submit(browser: TestBrowser, html: string, formId: string, extra: Record<string, string>): Promise<Response> {
  const form = new RegExp(`<form id="${formId.replace('.', '\\.')}"[^>]*action="([^"]+)"[\\s\\S]*?</form>`).exec(html)
  if (form === null) throw new Error(`no ${formId} in ${html}`)
  const fields = new URLSearchParams()
  for (const match of form[0].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields.set(match[1] as string, (match[2] as string).replaceAll('&#45;', '-'))
  for (const [key, value] of Object.entries(extra)) fields.set(key, value)
  return browser.navigate(new URL(form[1] as string, browser.origin).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: browser.origin, 'sec-fetch-site': 'same-origin' },
    body: fields.toString(),
  })
}

function device(target: TestApp, clientId: string, deviceCode: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return tokenRequest(target, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId, resource: target.mcpUrl })
}

describe('the device flow (RFC 8628)', () => {
  it('is pending until the user enters the code, signs in and approves; then the device gets a token of a session of hers', async () => {
    app = await startTestApp()
    const clientId = await registerDeviceClient(app)
    const started = await startDevice(app, clientId)
    expect(started.verification_uri).toBe(`${app.url}/oauth/device`)
    expect(started.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/)
    expect((await device(app, clientId, started.device_code)).body['error']).toBe('authorization_pending')

    const browser = new TestBrowser(app.url)
    browser.signIn(await app.login())
    const entry = await browser.navigate(started.verification_uri)
    expect(entry.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    const confirm = await submit(browser, await entry.text(), 'op.deviceInputForm', { user_code: started.user_code.toLowerCase() })
    const confirmHtml = await confirm.text()
    expect(confirmHtml).toContain('cli@test-host')
    expect(confirmHtml).toContain(started.user_code)
    const consent = await submit(browser, confirmHtml, 'op.deviceConfirmForm', {})
    const consentHtml = await consent.text()
    expect(consentHtml).toContain('on the device that showed you the code')
    const action = /<form method="post" action="([^"]+)"/.exec(consentHtml)?.[1] as string
    const csrf = /name="csrf" value="([^"]+)"/.exec(consentHtml)?.[1] as string
    const done = await browser.navigate(new URL(action, app.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: app.url },
      body: new URLSearchParams({ csrf, decision: 'allow' }).toString(),
    })
    const doneHtml = await done.text()
    expect(doneHtml).toContain('Device signed in')

    const tokens = await device(app, clientId, started.device_code)
    expect(tokens.status).toBe(200)
    expect(await mcpStatus(app.mcpUrl, tokens.body['access_token'] as string)).toBe(200)
    expect(typeof tokens.body['refresh_token']).toBe('string')
    expect(await app.sessions.listUserSessions('u-alice')).toHaveLength(2)
  })

  it('tells the device access_denied when the user cancels on the confirmation page', async () => {
    app = await startTestApp()
    const clientId = await registerDeviceClient(app)
    const started = await startDevice(app, clientId)
    const browser = new TestBrowser(app.url)
    const entry = await browser.navigate(started.verification_uri)
    const confirm = await submit(browser, await entry.text(), 'op.deviceInputForm', { user_code: started.user_code })
    const aborted = await submit(browser, await confirm.text(), 'op.deviceConfirmForm', { abort: 'yes' })
    expect(await aborted.text()).toContain('The sign-in was cancelled')
    expect((await device(app, clientId, started.device_code)).body['error']).toBe('access_denied')
  })

  it('refuses a code posted from another site, and says so for a code that does not exist', async () => {
    app = await startTestApp()
    const browser = new TestBrowser(app.url)
    const entry = await browser.navigate(`${app.url}/oauth/device`)
    const html = await entry.text()
    const crossSite = await browser.request(`${app.url}/oauth/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      body: new URLSearchParams({ user_code: 'ABCD-EFGH' }).toString(),
    })
    expect(crossSite.status).toBe(403)
    const unknown = await submit(browser, html, 'op.deviceInputForm', { user_code: 'BCDF-GHJK' })
    expect(await unknown.text()).toContain('That code is not known')
  })
})
