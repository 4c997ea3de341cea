import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connectTestClient, UpgradeRefusedError, type TestChannelClient } from '@pikku/channel/testing'
import { createMemoryStore, ServiceUnavailableError, type SessionStore } from '@pikku/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runDemoCLI } from './demo-cli.test-support.js'
import { ALICE, startHarness, type Harness } from './demo-harness.test-support.js'
import type { UserSession } from './types.js'

// Issue 15, point 14: while the session store is down, every protocol answers "the session store
// is unavailable" with an error id; the driver's message (here with a password in it) goes only
// to the log, never to a caller.

const SECRET = 'hunter2-s3cret'
const DRIVER_MESSAGE = `connect ECONNREFUSED 10.1.2.3:6379 (redis://app:${SECRET}@10.1.2.3:6379)`
const MESSAGE = 'The session store is unavailable; try again shortly'
const ERROR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

type Outage = false | 'driver error' | 'store error'

/**
 * A memory store that, while `down`, rejects every call with the driver's own error, or with the
 * `ServiceUnavailableError` quoting it that the Redis and PostgreSQL stores raise.
 */
function storeWithOutages(): SessionStore<UserSession> & { down: Outage } {
  const inner = createMemoryStore<UserSession>({ sweepInterval: 0 })
  const outage = (): Error => {
    const driverError = new Error(DRIVER_MESSAGE)
    if (store.down === 'driver error') return driverError
    return new ServiceUnavailableError(`The Redis session store is unavailable (${DRIVER_MESSAGE}); it reconnects by itself, try again shortly`, { cause: driverError })
  }
  const failing =
    <A extends unknown[], R>(run: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      store.down === false ? run(...args) : Promise.reject(outage())
  const store = {
    down: false as Outage,
    get: failing(inner.get),
    set: failing(inner.set),
    update: failing(inner.update),
    touch: failing(inner.touch),
    delete: failing(inner.delete),
    listByUser: failing(inner.listByUser),
    deleteByUser: failing(inner.deleteByUser),
    subscribe: inner.subscribe,
    close: inner.close,
  }
  return store
}

let harness: Harness
let store: ReturnType<typeof storeWithOutages>
const sockets: TestChannelClient[] = []

beforeAll(async () => {
  store = storeWithOutages()
  harness = await startHarness({ store })
})
afterEach(async () => {
  store.down = false
  for (const socket of sockets.splice(0)) await socket.close().catch(() => undefined)
})
afterAll(async () => {
  await harness.close()
})

function expectSafe(error: { code?: unknown; message?: unknown; id?: unknown } | undefined): void {
  expect(error).toMatchObject({ message: MESSAGE, id: expect.stringMatching(ERROR_ID) })
  expect(JSON.stringify(error)).not.toContain(SECRET)
}

describe('a session store outage is "unavailable" with an error id on every protocol, never the driver message', () => {
  it('HTTP: 503 with the fixed message and an id, whether the driver or the store raised it', async () => {
    const browser = harness.client()
    await browser.request('POST', '/login', { body: ALICE })
    for (const outage of ['driver error', 'store error'] as const) {
      store.down = outage
      const response = await browser.request('GET', '/profile')
      expect(response.status).toBe(503)
      expect(response.body.error.code).toBe('SERVICE_UNAVAILABLE')
      expectSafe(response.body.error)
      // A login during the outage too (the store write fails).
      const login = await harness.client().request('POST', '/login', { body: ALICE })
      expect(login.status).toBe(503)
      expectSafe(login.body.error)
    }
  })

  it('WebSocket: the upgrade with a cookie is refused with 503, and a message that needs the store gets the error frame', async () => {
    const browser = harness.client()
    await browser.request('POST', '/login', { body: ALICE })
    const cookie = await browser.jar.getCookieString(harness.demo.url)
    const url = `${harness.demo.url.replace('http://', 'ws://')}/ws`
    store.down = 'store error'
    const refused = await connectTestClient(url, { headers: { cookie }, origin: harness.demo.url }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(UpgradeRefusedError)
    expect((refused as UpgradeRefusedError).status).toBe(503)
    expect((refused as UpgradeRefusedError).body).not.toContain(SECRET)
    expectSafe((JSON.parse((refused as UpgradeRefusedError).body) as { error: object }).error)

    store.down = false
    const socket = await connectTestClient(url)
    sockets.push(socket)
    store.down = 'store error'
    const login = await socket.call('login', ALICE)
    expect(login.error?.code).toBe('SERVICE_UNAVAILABLE')
    expectSafe(login.error)
  })

  it('MCP: the JSON-RPC error carries the fixed message and the id', async () => {
    const login = await harness.client().request('POST', '/login', { body: ALICE, cookies: false })
    store.down = 'store error'
    const response = await fetch(`${harness.demo.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${login.body.token as string}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'outage-test', version: '0' } } }),
    })
    expect(response.status).toBe(503)
    const text = await response.text()
    expect(text).not.toContain(SECRET)
    const body = JSON.parse(text) as { error: { code: number; message: string; data?: { id?: string } } }
    expect(body.error.code).toBe(-32050)
    expect(body.error.message).toBe(MESSAGE)
    expect(body.error.data?.id).toMatch(ERROR_ID)
  })

  it('CLI (remote mode): exit 9, the fixed message and the id on stderr', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pikku-demo-outage-'))
    try {
      const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'config'), DATA_DIR: join(root, 'data'), PIKKU_DEMO_INSECURE_STORAGE: '1' }
      const cli = (args: string[]) => runDemoCLI(CLI, [...args, '--server', harness.demo.url], env)
      expect((await cli(['login', '--email', ALICE.email, '--password', ALICE.password])).code).toBe(0)
      store.down = 'store error'
      const human = await cli(['profile'])
      expect(human.code).toBe(9)
      expect(human.stderr).toContain(MESSAGE)
      expect(human.stderr).toMatch(/error id: [0-9a-f-]{36}/)
      expect(human.stderr + human.stdout).not.toContain(SECRET)
      const json = await cli(['profile', '--json'])
      expect(json.code).toBe(9)
      expectSafe((JSON.parse(json.stderr) as { error: object }).error)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }, 30_000)
})
