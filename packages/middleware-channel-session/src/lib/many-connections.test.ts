import type { TestChannelClient } from '@pikku/channel/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from './channel-test-app.test-support.js'

const CONNECTIONS = 1_000

let app: TestApp
const clients: TestChannelClient[] = []

beforeAll(async () => {
  app = await startTestApp()
  // Opened in waves so the listen backlog is never the thing under test.
  for (let start = 0; start < CONNECTIONS; start += 200) {
    const wave = await Promise.all(Array.from({ length: Math.min(200, CONNECTIONS - start) }, () => app.connect()))
    clients.push(...wave)
  }
}, 20_000)

afterAll(async () => {
  await app.close()
}, 20_000)

describe(`${CONNECTIONS} concurrent connections`, () => {
  it('each logs in as its own user and only ever sees its own session', async () => {
    expect(app.channels.connectionCount).toBe(CONNECTIONS)
    const logins = await Promise.all(clients.map((client, index) => client.call('login', { userId: `user-${index}` })))
    expect(logins.every((reply) => reply.error === undefined)).toBe(true)
    // Interleave a change and a read on every connection at once.
    await Promise.all(clients.map((client, index) => client.call('rename', { name: `name-${index}` })))
    const whoAmI = await Promise.all(clients.map((client) => client.call('whoAmI')))
    whoAmI.forEach((reply, index) => {
      expect(reply.result).toEqual({ userId: `user-${index}`, name: `name-${index}` })
    })
    expect(app.channelSessions.boundSessionCount).toBe(CONNECTIONS)
  }, 20_000)

  it('revoking some users reaches exactly their connections', async () => {
    const revoked = new Set([3, 141, 592, 653, 999])
    for (const index of revoked) await app.sessions.revokeUser(`user-${index}`)
    await Promise.all([...revoked].map((index) => clients[index]!.nextEvent('session', 1_000)))
    const replies = await Promise.all(clients.map((client) => client.call('maybeMe')))
    replies.forEach((reply, index) => {
      expect(reply.result).toBe(revoked.has(index) ? null : `user-${index}`)
      expect(clients[index]!.events.length).toBe(revoked.has(index) ? 1 : 0)
    })
    expect(app.channelSessions.boundSessionCount).toBe(CONNECTIONS - revoked.size)
  }, 20_000)
})
