import type { SessionLifecycleEvent, SessionListEntry } from '@pikku/core'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestApp, waitFor, type TestApp } from './channel-test-app.test-support.js'
import { bearerSubprotocols } from './subprotocol-token.js'

let app: TestApp | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'

describe('socket sessions in the session list', () => {
  it('an in-band login on a socket is listed as a channel session with the browser and address of the upgrade', async () => {
    app = await startTestApp()
    const socket = await app.connect({ headers: { 'user-agent': FIREFOX } })
    await socket.call('login', { userId: 'alice' })
    const listed = (await socket.call('listSessions')).result as SessionListEntry[]
    expect(listed).toEqual([
      expect.objectContaining({ protocol: 'channel', credential: 'in-band', client: 'Firefox on Linux', address: '127.0.0.1', current: true }),
    ])
  })

  it('a socket session records the peer, not a spoofed X-Forwarded-For, unless the proxy is trusted (then its rightmost entry)', async () => {
    const spoofed = { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' }
    app = await startTestApp()
    const direct = await app.connect({ headers: spoofed })
    await direct.call('login', { userId: 'alice' })
    expect(((await direct.call('listSessions')).result as SessionListEntry[])[0]?.address).toBe('127.0.0.1')
    await app.close()

    app = await startTestApp({ trustProxy: true })
    const events: SessionLifecycleEvent[] = []
    app.sessions.onEvent((event) => void events.push(event))
    const proxied = await app.connect({ headers: spoofed })
    await proxied.call('login', { userId: 'alice' })
    expect(((await proxied.call('listSessions')).result as SessionListEntry[])[0]?.address).toBe('203.0.113.9')
    await app.connect({ headers: spoofed, protocols: bearerSubprotocols('not-a-valid-token') })
    await waitFor(() => events.some((event) => event.type === 'refused'))
    expect(events.find((event) => event.type === 'refused')?.address).toBe('203.0.113.9')
  })

  it('revoking a socket’s session from another device pushes "revoked"; its next call is unauthorized and the socket stays open', async () => {
    app = await startTestApp()
    const socket = await app.connect()
    await socket.call('login', { userId: 'alice' })
    const { cookie } = await app.httpLogin('alice')
    const fromBrowser = (await app.http('GET', '/sessions', { cookie })).body as SessionListEntry[]
    const socketSession = fromBrowser.find((entry) => !entry.current)!
    expect(socketSession.protocol).toBe('channel')
    const started = Date.now()
    expect((await app.http('POST', '/sessions/revoke', { cookie, body: { handle: socketSession.handle } })).status).toBe(200)
    expect(await socket.nextEvent('session', 1_000)).toEqual({ event: 'session', data: { state: 'revoked' } })
    expect(Date.now() - started).toBeLessThan(1_000)
    expect((await socket.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    // Still open: the client may log in again on it.
    expect((await socket.call('maybeMe')).result).toBeNull()
    expect((await app.http('GET', '/me', { cookie })).status).toBe(200)
  })

  it('a socket cannot revoke another user’s session', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('bob')
    const [bobSession] = (await app.http('GET', '/sessions', { cookie })).body as SessionListEntry[]
    const socket = await app.connect()
    await socket.call('login', { userId: 'alice' })
    expect((await socket.call('revokeSession', { handle: bobSession!.handle })).error?.code).toBe('NOT_FOUND')
    expect((await app.http('GET', '/me', { cookie })).status).toBe(200)
  })

  it('a token refused at the upgrade is reported as a refused channel event, and the socket opens anonymous', async () => {
    app = await startTestApp()
    const events: SessionLifecycleEvent[] = []
    app.sessions.onEvent((event) => void events.push(event))
    const socket = await app.connect({ protocols: bearerSubprotocols('not-a-valid-token') })
    expect((await socket.call('maybeMe')).result).toBeNull()
    expect(events).toEqual([expect.objectContaining({ type: 'refused', protocol: 'channel', address: '127.0.0.1' })])
    expect(JSON.stringify(events)).not.toContain('not-a-valid-token')
  })
})
