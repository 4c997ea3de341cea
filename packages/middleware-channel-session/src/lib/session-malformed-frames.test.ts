import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestChannelClient } from '@pikku/channel/testing'
import { startTestApp, type TestApp } from './channel-test-app.test-support.js'

let app: TestApp
let client: TestChannelClient

beforeAll(async () => {
  app = await startTestApp()
  const { cookie } = await app.httpLogin('alice')
  client = await app.connect({ headers: { cookie }, origin: app.origin })
})

afterAll(async () => {
  await app.close()
})

const garbage = fc.oneof(
  fc.string({ maxLength: 300 }).map((text) => ({ frame: text as string | Buffer, binary: false })),
  fc.json().map((text) => ({ frame: text as string | Buffer, binary: false })),
  fc
    .record({ id: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.object()), func: fc.oneof(fc.string(), fc.constantFrom('login', 'logout', 'rename'), fc.integer()), data: fc.anything() }, { requiredKeys: [] })
    // Well-formed calls to real functions are not garbage; they are tested elsewhere.
    .filter((request) => !(typeof request.func === 'string' && ['login', 'logout', 'rename'].includes(request.func) && (typeof request.id === 'string' || typeof request.id === 'number')))
    .map((request) => ({ frame: JSON.stringify(request) as string | Buffer, binary: false })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ frame: Buffer.from(bytes) as string | Buffer, binary: true })),
)

describe('malformed frames on an authenticated connection (property-based)', () => {
  it('never close the connection, crash the server or disturb the session', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(garbage, { minLength: 1, maxLength: 5 }), async (frames) => {
        for (const { frame, binary } of frames) client.sendRaw(frame, { binary })
        const reply = await client.call('whoAmI')
        expect(reply.result).toMatchObject({ userId: 'alice' })
        expect(client.isOpen).toBe(true)
      }),
      { numRuns: 150 },
    )
    expect(client.events).toEqual([])
    const [stored] = await app.sessions.listUserSessions('alice')
    expect(stored?.data).toEqual({ userId: 'alice', name: 'alice original' })
    expect(stored?.version).toBe(1)
  })
})
