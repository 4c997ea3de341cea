import { randomBytes } from 'node:crypto'
import type { TestChannelClient } from '@pikku/channel/testing'
import { createSessionManager, type SessionEvent, silentLogger } from '@pikku/core'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { logInThroughStore, startBearerSocketServer } from '@pikku/framework-testkit/bearer-socket-server'
import { startTcpFaultProxy } from '@pikku/framework-testkit/tcp-fault-proxy'
import { createPostgresStore } from './postgres-store.js'
import { databaseUrl, postgresAvailable } from '@pikku/framework-testkit/test-services'

// Two servers share one database. Server A serves WebSockets and reaches PostgreSQL through a proxy
// that can cut its connections; server B logs users out. What A's sockets answer while A cannot
// hear B's revocations is the point of this file.

const available = await postgresAvailable()

describe.skipIf(!available)('sockets on a server whose PostgreSQL connections are cut', () => {
  const table = `pikku_test_${randomBytes(6).toString('hex')}`

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: databaseUrl })
    await admin.connect()
    await admin.query(`DROP TABLE IF EXISTS "${table}", "${table}_schema"`)
    await admin.end()
  })

  it('never answer as a user who logged out on another server meanwhile: 401 while A can still query, 503 once it cannot, and live events again once the link is back', async () => {
    const target = new URL(databaseUrl)
    const proxy = await startTcpFaultProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const common = { tableName: table, logger: silentLogger, sweepInterval: 0, connectTimeout: 500, queryTimeout: 1_000, maxReconnectDelay: 50 }
    const url = new URL(databaseUrl)
    url.hostname = '127.0.0.1'
    url.port = String(proxy.port)
    // One pooled connection, so that cutting it leaves A unable to query.
    const storeA = createPostgresStore({ ...common, connectionString: url.toString(), poolSize: 1 })
    const storeB = createPostgresStore({ ...common, connectionString: databaseUrl })
    const sessionsB = createSessionManager({ store: storeB, logger: silentLogger })
    let readsOnA = 0
    let readsAnsweredOnA = 0
    // Server A's store, counting the reads its sockets make, and those answered.
    const sessionsA = createSessionManager({
      store: {
        ...storeA,
        get: async (id) => {
          readsOnA++
          try {
            return await storeA.get(id)
          } finally {
            readsAnsweredOnA++
          }
        },
      },
      logger: silentLogger,
    })
    await storeA.ready()
    const poolConnection = proxy.connections - 1
    const serverA = await startBearerSocketServer(sessionsA)
    const listenerConnection = proxy.connections
    const seenByA: SessionEvent[] = []
    storeA.subscribe((event) => seenByA.push(event))
    await storeA.ready()
    try {
      const alice = await logInThroughStore(storeB, 'alice')
      const bob = await logInThroughStore(storeB, 'bob')
      const aliceSocket = await serverA.connect(alice.token)
      const bobSocket = await serverA.connect(bob.token)
      expect((await aliceSocket.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
      expect((await bobSocket.call('whoAmI')).result).toMatchObject({ userId: 'bob' })

      // A's LISTEN connection drops and cannot come back; its pooled connection still works.
      proxy.refuseNew()
      proxy.cutConnection(listenerConnection)
      await expect.poll(() => seenByA.some((e) => e.type === 'interrupted'), { timeout: 2_000, interval: 5 }).toBe(true)
      // Alice logs out on server B; A cannot hear it.
      expect(await sessionsB.revoke(alice.id)).toBe(true)
      const refused = await aliceSocket.call('whoAmI')
      expect(refused.result).toBeUndefined()
      expect(refused.error?.code).toBe('UNAUTHORIZED')
      expect((await aliceSocket.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
      expect((await bobSocket.call('whoAmI')).result).toMatchObject({ userId: 'bob' })

      // Now A cannot reach the database at all: no answer can be vouched for.
      proxy.cutConnection(poolConnection)
      const unavailable = await bobSocket.call('whoAmI')
      expect(unavailable.error?.code).toBe('SERVICE_UNAVAILABLE')
      // What failed, and where, goes to the log; the caller is told only that the store is unavailable.
      expect(unavailable.error?.message).not.toMatch(new RegExp(`ECONNREFUSED|127\\.0\\.0\\.1|terminated|${proxy.port}`))
      expect((await aliceSocket.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')

      // The link comes back: the store resyncs and A's sockets trust its events again.
      await proxy.acceptNew()
      await expect.poll(() => seenByA.filter((e) => e.type === 'resync').length, { timeout: 3_000, interval: 10 }).toBeGreaterThan(0)
      await expect.poll(async () => (await bobSocket.call('whoAmI')).result, { timeout: 3_000, interval: 20 }).toMatchObject({ userId: 'bob' })
      await expect.poll(() => seenByA.at(-1)?.type, { timeout: 3_000, interval: 10 }).toBe('resync')
      await expect.poll(async () => {
        const before = readsOnA
        await bobSocket.call('whoAmI')
        return readsOnA - before
      }, { timeout: 3_000, interval: 20 }).toBe(0)
      const readsBefore = readsOnA
      for (let i = 0; i < 3; i++) expect((await bobSocket.call('whoAmI')).result).toMatchObject({ userId: 'bob' })
      expect(readsOnA).toBe(readsBefore)
      // The resync's own re-check of bob's session (one read, queued behind the single pooled
      // connection) has been answered: were it still waiting, it could run after the revocation
      // below, find the session gone and end the socket as 'cleared' before the event arrives.
      await expect.poll(() => readsAnsweredOnA, { timeout: 3_000, interval: 10 }).toBe(readsOnA)
      // A logout on B reaches the socket as an event again, without the socket asking.
      expect(await sessionsB.revoke(bob.id)).toBe(true)
      expect((await bobSocket.nextEvent('session', 1_000)).data).toEqual({ state: 'revoked' })
      expect((await aliceSocket.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    } finally {
      await serverA.close()
      await Promise.all([storeA.close(), storeB.close()])
      await proxy.close()
    }
  })
})
