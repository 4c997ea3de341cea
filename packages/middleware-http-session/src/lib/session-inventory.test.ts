import type { SessionLifecycleEvent } from '@pikku/core'
import { afterEach, describe, expect, it } from 'vitest'
import { ADMIN, ALICE, SESSION_COOKIE, startStoredApp, type StoredApp } from './test-app.test-support.js'

const apps: StoredApp[] = []
const start = async (...args: Parameters<typeof startStoredApp>): Promise<StoredApp> => {
  const started = await startStoredApp(...args)
  apps.push(started)
  return started
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((running) => running.close()))
})

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, withoutJar: true as const })
const afterResponse = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('sessions a user can see and end over HTTP', () => {
  it('records each login’s client: a browser’s cookie session, a CLI that names itself', async () => {
    const app = await start()
    const browser = app.client()
    expect((await browser.post('/login', ALICE, { headers: { 'user-agent': FIREFOX } })).status).toBe(200)
    const cli = await app.client().post('/login', ALICE, { headers: { 'pikku-client': 'cli@build-box', 'user-agent': 'demo/1.0 (@pikku/cli-session)' }, withoutJar: true })
    expect(cli.status).toBe(200)

    const listed = await browser.get('/sessions')
    expect(listed.status).toBe(200)
    const entries = listed.body as { handle: string; current: boolean; protocol: string; credential: string; client: string; address: string }[]
    expect(entries).toHaveLength(2)
    expect(entries.find((entry) => entry.current)).toMatchObject({ protocol: 'http', credential: 'cookie', client: 'Firefox on Linux' })
    expect(entries.find((entry) => !entry.current)).toMatchObject({ protocol: 'cli', credential: 'bearer', client: 'cli@build-box' })
    // The address the adapter saw (the loopback interface here), never a forwarded header.
    expect(entries[0]?.address).toMatch(/127\.0\.0\.1|::1/)
    const text = JSON.stringify(listed.body)
    expect(text).not.toContain(cli.body.token)
    expect(text).not.toContain((await browser.cookie(SESSION_COOKIE))!)
  })

  it('a phone that logs in and then uses the bearer token it was given lists as bearer; the browser that keeps the cookie as cookie', async () => {
    const app = await start()
    const browser = app.client()
    await browser.post('/login', ALICE, { headers: { 'user-agent': FIREFOX } })
    // The same login answers both a cookie and a token: the phone keeps only the token.
    const phone = await app.client().post('/login', ALICE, { headers: { 'user-agent': 'PhoneApp/2.1' }, withoutJar: true })
    expect(phone.setCookies).toHaveLength(1)
    const credentials = async (): Promise<Record<string, string>> =>
      Object.fromEntries(((await browser.get('/sessions')).body as { client: string; credential: string }[]).map((entry) => [entry.client, entry.credential]))
    expect(await credentials()).toEqual({ 'Firefox on Linux': 'cookie', 'PhoneApp/2.1': 'cookie' })
    const writes = app.store.writes.length
    expect((await app.client().get('/profile', bearer(phone.body.token))).status).toBe(200)
    // One write, once: later bearer requests find it recorded.
    expect(app.store.writes.length).toBe(writes + 1)
    expect((await app.client().get('/profile', bearer(phone.body.token))).status).toBe(200)
    expect(app.store.writes.length).toBe(writes + 1)
    expect(await credentials()).toEqual({ 'Firefox on Linux': 'cookie', 'PhoneApp/2.1': 'bearer' })
    // And the session works as before: its data and its token are unchanged.
    expect((await app.client().get('/profile', bearer(phone.body.token))).body.email).toBe(ALICE.email)
  })

  it('ignores X-Forwarded-For unless a trusted proxy is configured', async () => {
    const app = await start()
    const browser = app.client()
    await browser.post('/login', ALICE, { headers: { 'x-forwarded-for': '203.0.113.9' } })
    const [entry] = (await browser.get('/sessions')).body as { address: string }[]
    expect(entry?.address).not.toBe('203.0.113.9')
  })

  it('revoking a bearer session by its handle gets that token 401 at once, and leaves the caller signed in', async () => {
    const app = await start()
    const browser = app.client()
    await browser.post('/login', ALICE)
    const phone = await app.client().post('/login', ALICE, { withoutJar: true })
    const token = phone.body.token as string
    expect((await app.client().get('/profile', bearer(token))).status).toBe(200)
    const other = ((await browser.get('/sessions')).body as { handle: string; current: boolean }[]).find((entry) => !entry.current)!
    expect((await browser.post('/sessions/revoke', { handle: other.handle })).body).toEqual({ success: true })
    const refused = await app.client().get('/profile', bearer(token))
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect((await browser.get('/profile')).status).toBe(200)
  })

  it('another user’s handle is 404, and ends nothing', async () => {
    const app = await start()
    const alice = app.client()
    await alice.post('/login', ALICE)
    const admin = app.client()
    await admin.post('/login', ADMIN)
    const [adminSession] = (await admin.get('/sessions')).body as { handle: string }[]
    const answer = await alice.post('/sessions/revoke', { handle: adminSession!.handle })
    expect(answer.status).toBe(404)
    expect((await admin.get('/profile')).status).toBe(200)
  })

  it('revoke-others keeps only the calling session', async () => {
    const app = await start()
    const clients = [app.client(), app.client(), app.client()]
    for (const client of clients) await client.post('/login', ALICE)
    expect((await clients[0]!.post('/sessions/revoke-others', {})).body).toEqual({ revoked: 2 })
    expect((await clients[0]!.get('/profile')).status).toBe(200)
    expect((await clients[1]!.get('/profile')).status).toBe(401)
    expect((await clients[2]!.get('/profile')).status).toBe(401)
    expect((await clients[0]!.get('/sessions')).body).toHaveLength(1)
  })

  it('reports logins, logouts and refused credentials to onEvent, with no secrets', async () => {
    const events: SessionLifecycleEvent[] = []
    const app = await start({ manager: { onEvent: (event) => void events.push(event) } })
    const browser = app.client()
    const login = await browser.post('/login', ALICE, { headers: { 'user-agent': FIREFOX } })
    await browser.post('/logout', {})
    await app.client().get('/profile', bearer('not.a.jwt'))
    await afterResponse()
    expect(events.map((event) => event.type)).toEqual(['created', 'cleared', 'refused'])
    expect(events[0]).toMatchObject({ userId: 'u-alice', protocol: 'http', credential: 'cookie', label: 'Firefox on Linux' })
    expect(events[2]).toMatchObject({ type: 'refused', credential: 'bearer', protocol: 'http' })
    const text = JSON.stringify(events)
    expect(text).not.toContain(login.body.token)
    expect(text).not.toContain(ALICE.password)
  })
})
