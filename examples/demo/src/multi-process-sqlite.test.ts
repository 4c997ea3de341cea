import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type DemoProcess, openSocket, type Socket, startDemoProcess } from './demo-process.test-support.js'

// Two demo servers started together on one data folder, with the default SQLite store: what
// Node's cluster module, pm2 or two containers on one volume do. Each is a real process; they share
// nothing but the files.

const SOCKETS = 300

async function logIn(base: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })
  expect(response.status).toBe(200)
  return response.headers.getSetCookie()[0]!.split(';', 1)[0]!
}

describe('two demo servers sharing one SQLite data folder', () => {
  let root: string
  let a: DemoProcess
  let b: DemoProcess

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'pikku-demo-sqlite-'))
    const dataDir = join(root, 'data')
    // At the same time, on an empty folder: both create the key, the database and its tables.
    ;[a, b] = await Promise.all([startDemoProcess({}, { dataDir }), startDemoProcess({}, { dataDir })])
  }, 40_000)

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    rmSync(root, { recursive: true, force: true })
  })

  it(`tells every one of ${SOCKETS} sockets on A within a second that the user logged out on B, and refuses their calls and writes`, async () => {
    const alice = await logIn(a.url, 'alice@example.com', 'alice-password')
    const admin = await logIn(a.url, 'admin@example.com', 'admin-password')
    // B serves A's session: both read the one file.
    expect((await fetch(`${b.url}/profile`, { headers: { cookie: alice } })).status).toBe(200)

    const sockets: Socket[] = []
    for (let i = 0; i < SOCKETS; i++) sockets.push(await openSocket(a.url, alice))
    const bystander = await openSocket(a.url, admin)
    try {
      expect((await sockets[0]!.call('getProfile')).result).toMatchObject({ email: 'alice@example.com' })
      expect((await sockets.at(-1)!.call('getProfile')).result).toMatchObject({ email: 'alice@example.com' })

      const logout = await fetch(`${b.url}/logout`, { method: 'POST', headers: { cookie: alice, origin: b.url } })
      expect(logout.status).toBe(200)
      const loggedOutAt = Date.now()

      const told = await Promise.all(sockets.map((socket) => socket.nextEvent(1_000)))
      for (const event of told) expect(event).toMatchObject({ event: 'session', data: { state: 'cleared' } })
      const delays = told.map((event) => event.receivedAt - loggedOutAt).sort((x, y) => x - y)
      expect(delays.at(-1)).toBeLessThan(1_000)

      // No socket answers as alice any more, for reads or writes, and none was closed for it.
      expect((await sockets[0]!.call('getProfile')).error?.code).toBe('UNAUTHORIZED')
      expect((await sockets[1]!.call('updatePreferences', { theme: 'dark' })).error?.code).toBe('UNAUTHORIZED')
      expect(sockets.every((socket) => socket.ws.readyState === WebSocket.OPEN)).toBe(true)
      expect((await fetch(`${a.url}/profile`, { headers: { cookie: alice } })).status).toBe(401)
      // Another user's socket on A is untouched.
      expect(bystander.events).toEqual([])
      expect((await bystander.call('getProfile')).result).toMatchObject({ email: 'admin@example.com' })
    } finally {
      for (const socket of [...sockets, bystander]) socket.ws.close()
    }
  }, 60_000)

  it('keeps every acknowledged preference update when the two servers update the same user at once', async () => {
    const cookie = await logIn(a.url, 'alice@example.com', 'alice-password')
    const update = (base: string, fields: Record<string, string>): Promise<Response> =>
      fetch(`${base}/preferences`, { method: 'PUT', headers: { cookie, origin: base, 'content-type': 'application/json' }, body: JSON.stringify(fields) })
    const rounds = 20
    const responses = await Promise.all(
      Array.from({ length: rounds }, (_, i) => [update(a.url, { [`fromA${i}`]: `a-${i}` }), update(b.url, { [`fromB${i}`]: `b-${i}` })]).flat(),
    )
    for (const response of responses) expect(response.status).toBe(200)
    const expected: Record<string, string> = {}
    for (let i = 0; i < rounds; i++) {
      expected[`fromA${i}`] = `a-${i}`
      expected[`fromB${i}`] = `b-${i}`
    }
    for (const base of [a.url, b.url]) {
      const profile = (await (await fetch(`${base}/profile`, { headers: { cookie } })).json()) as { preferences: Record<string, string> }
      expect(profile.preferences).toMatchObject(expected)
    }
    // A field updated on one server and then on the other keeps the later value, and the other fields stay.
    expect((await update(a.url, { theme: 'dark' })).status).toBe(200)
    expect((await update(b.url, { language: 'fr' })).status).toBe(200)
    const profile = (await (await fetch(`${a.url}/profile`, { headers: { cookie } })).json()) as { preferences: Record<string, string> }
    expect(profile.preferences).toMatchObject({ ...expected, theme: 'dark', language: 'fr' })
  }, 60_000)
})
