import { randomBytes } from 'node:crypto'
import { type SessionEvent, ServiceUnavailableError, silentLogger } from '@pikku/core'
import { createTestClock } from '@pikku/core/testing'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import type { TcpFaultProxy } from '@pikku/framework-testkit/tcp-fault-proxy'
import { createPostgresStore, type PostgresStore } from './postgres-store.js'
import { databaseUrl, postgresAvailable } from '@pikku/framework-testkit/test-services'
import { record, startPostgresProxy } from './postgres-test-stores.test-support.js'

const available = await postgresAvailable()

/** The events that open and close a gap in delivery, in the order they came. */
function gaps(events: readonly SessionEvent[]): SessionEvent[] {
  return events.filter((e) => e.type === 'interrupted' || e.type === 'resync')
}

// The shared PostgreSQL is never stopped (other suites use it): the store is cut off from it by a
// TCP proxy in between, which drops every connection and refuses new ones until restored.
describe.skipIf(!available)('PostgreSQL store when the connection is cut and comes back', () => {
  const table = `pikku_test_${randomBytes(6).toString('hex')}`
  const stores: PostgresStore[] = []
  const proxies: TcpFaultProxy[] = []
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 })

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()))
    await Promise.all(proxies.map((proxy) => proxy.close()))
    await admin.query(`DROP TABLE IF EXISTS "${table}", "${table}_schema"`)
    await admin.end()
  })

  it('fails with ServiceUnavailableError while cut off, then recovers by itself without losing acknowledged writes', async () => {
    const { proxy, url: proxiedUrl } = await startPostgresProxy()
    proxies.push(proxy)
    const clock = createTestClock()
    const common = { tableName: table, clock: clock.now, logger: silentLogger, sweepInterval: 0, connectTimeout: 500, queryTimeout: 1_000, maxReconnectDelay: 100 }
    const cutOff = createPostgresStore({ ...common, connectionString: proxiedUrl })
    const direct = createPostgresStore({ ...common, connectionString: databaseUrl })
    stores.push(cutOff, direct)
    const seenByCutOff: SessionEvent[] = []
    cutOff.subscribe((event) => seenByCutOff.push(event))
    await cutOff.ready()

    const acknowledged = Array.from({ length: 20 }, () => record(clock.now()))
    for (const r of acknowledged) await cutOff.set(r)

    await proxy.cut()
    const started = Date.now()
    const failure = await cutOff.get(acknowledged[0]!.id).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ServiceUnavailableError)
    // Callers see a fixed message; the driver's (which can name the host and port) is only the cause.
    expect((failure as Error).message).toBe('The session store is unavailable; try again shortly')
    expect((failure as Error).message).not.toContain(String(proxy.port))
    expect((failure as Error).cause).toBeInstanceOf(Error)
    await expect(cutOff.set(record(clock.now()))).rejects.toBeInstanceOf(ServiceUnavailableError)
    await expect(cutOff.deleteByUser('alice')).rejects.toBeInstanceOf(ServiceUnavailableError)
    // Failing fast, not hanging.
    expect(Date.now() - started).toBeLessThan(2_000)
    // The database itself is fine and still has every acknowledged write.
    expect(await direct.listByUser('alice')).toHaveLength(20)

    await proxy.restore()
    await expect.poll(() => cutOff.get(acknowledged[0]!.id).catch(() => 'still cut off'), { timeout: 5_000, interval: 50 }).toEqual(acknowledged[0])
    for (const r of acknowledged) expect(await cutOff.get(r.id)).toEqual(r)

    // The listener connection came back too: a revocation by another server reaches this one.
    await expect
      .poll(
        async () => {
          const probe = record(clock.now(), { userId: 'bob' })
          await direct.set(probe)
          await direct.delete(probe.id, 'revoked')
          await new Promise((resolve) => setTimeout(resolve, 50))
          return seenByCutOff.some((e) => e.type === 'deleted' && e.id === probe.id)
        },
        { timeout: 5_000, interval: 50 },
      )
      .toBe(true)
    // Notifications sent while it was cut off are gone; its subscribers were told when it was cut
    // off, and to re-check once it listened again.
    expect(gaps(seenByCutOff).slice(0, 2)).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
    expect(seenByCutOff.filter((e) => e.type === 'resync')).toEqual([{ type: 'resync' }])
  })

  it('answers ServiceUnavailableError within its query timeout when the database hangs, and carries on when it resumes', async () => {
    const { proxy, url: proxiedUrl } = await startPostgresProxy()
    proxies.push(proxy)
    const clock = createTestClock()
    const store = createPostgresStore({
      connectionString: proxiedUrl,
      tableName: table,
      clock: clock.now,
      logger: silentLogger,
      sweepInterval: 0,
      connectTimeout: 500,
      queryTimeout: 300,
    })
    stores.push(store)
    const stored = record(clock.now())
    await store.set(stored)
    proxy.stall()
    try {
      const started = Date.now()
      await expect(store.get(stored.id)).rejects.toBeInstanceOf(ServiceUnavailableError)
      await expect(store.set(record(clock.now()))).rejects.toBeInstanceOf(ServiceUnavailableError)
      expect(Date.now() - started).toBeLessThan(2_000)
    } finally {
      proxy.resume()
    }
    await expect.poll(() => store.get(stored.id).catch(() => 'hung'), { timeout: 5_000, interval: 50 }).toEqual(stored)
    const after = record(clock.now())
    await store.set(after)
    expect(await store.get(after.id)).toEqual(after)
  })

  it('notices a listener that silently stopped delivering and opens a new one', async () => {
    const { proxy, url: proxiedUrl } = await startPostgresProxy()
    proxies.push(proxy)
    const clock = createTestClock()
    const common = { tableName: table, clock: clock.now, logger: silentLogger, sweepInterval: 0 }
    const proxied = createPostgresStore({ ...common, connectionString: proxiedUrl, poolSize: 1, listenerCheckInterval: 100 })
    const direct = createPostgresStore({ ...common, connectionString: databaseUrl })
    stores.push(proxied, direct)
    await proxied.ready()
    const poolConnections = proxy.connections
    const seen: SessionEvent[] = []
    proxied.subscribe((event) => seen.push(event))
    await proxied.ready()
    // The listener's socket stays open but nothing passes any more: no error, no close.
    proxy.stallConnection(poolConnections)
    await expect
      .poll(
        async () => {
          const probe = record(clock.now(), { userId: 'dave' })
          await direct.set(probe)
          await direct.delete(probe.id, 'revoked')
          await new Promise((resolve) => setTimeout(resolve, 20))
          return seen.some((e) => e.type === 'deleted' && e.id === probe.id)
        },
        { timeout: 3_000, interval: 20 },
      )
      .toBe(true)
    expect(proxy.connections).toBeGreaterThan(poolConnections + 1)
    expect(gaps(seen)).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
  })

  it('tells subscribers to resync once LISTEN succeeds again after only its listener connection was terminated', async () => {
    const clock = createTestClock()
    const url = new URL(databaseUrl)
    url.searchParams.set('application_name', `${table}_listener`)
    const common = { tableName: table, clock: clock.now, logger: silentLogger, sweepInterval: 0, maxReconnectDelay: 50 }
    const store = createPostgresStore({ ...common, connectionString: url.toString(), listenerCheckInterval: 0 })
    const other = createPostgresStore({ ...common, connectionString: databaseUrl })
    stores.push(store, other)
    const seen: SessionEvent[] = []
    store.subscribe((event) => seen.push(event))
    await store.ready()
    const first = record(clock.now(), { userId: 'erin' })
    await other.set(first)
    await expect.poll(() => seen.length, { timeout: 1_000, interval: 5 }).toBe(1)
    // The first LISTEN is not a resync.
    expect(seen).toEqual([expect.objectContaining({ type: 'changed', id: first.id })])

    // Only the listener: its last statement is LISTEN (the pool's connections ran other queries).
    const { rows } = await admin.query<{ pid: number }>(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'",
      [`${table}_listener`],
    )
    expect(rows).toHaveLength(1)
    const missed = record(clock.now(), { userId: 'erin' })
    await other.set(missed)
    await other.delete(missed.id, 'revoked')
    await expect.poll(() => gaps(seen), { timeout: 3_000, interval: 10 }).toEqual([{ type: 'interrupted' }, { type: 'resync' }])

    // Listening again before the resync was sent: a revocation made now arrives.
    const after = record(clock.now(), { userId: 'erin' })
    await other.set(after)
    await other.delete(after.id, 'revoked')
    await expect.poll(() => seen.some((e) => e.type === 'deleted' && e.id === after.id), { timeout: 1_000, interval: 5 }).toBe(true)
    expect(gaps(seen)).toHaveLength(2)
  })

  it('tells subscribers their events are interrupted as soon as its listener connection drops, and resyncs only once it listens again', async () => {
    const { proxy, url: proxiedUrl } = await startPostgresProxy()
    proxies.push(proxy)
    const clock = createTestClock()
    const common = { tableName: table, clock: clock.now, logger: silentLogger, sweepInterval: 0, maxReconnectDelay: 50 }
    // One pooled connection, opened before the listener's; the check is off, so the connection's
    // own failure is what must be noticed.
    const proxied = createPostgresStore({ ...common, connectionString: proxiedUrl, poolSize: 1, listenerCheckInterval: 0 })
    const direct = createPostgresStore({ ...common, connectionString: databaseUrl })
    stores.push(proxied, direct)
    await proxied.ready()
    const listenerConnection = proxy.connections
    const seen: SessionEvent[] = []
    proxied.subscribe((event) => seen.push(event))
    await proxied.ready()

    proxy.refuseNew()
    proxy.cutConnection(listenerConnection)
    await expect.poll(() => gaps(seen), { timeout: 2_000, interval: 5 }).toEqual([{ type: 'interrupted' }])
    const missed = record(clock.now(), { userId: 'frank' })
    await direct.set(missed)
    await direct.delete(missed.id, 'revoked')
    // The database itself still answers through the pool; the gap stays open while LISTEN is down.
    expect(await proxied.get(missed.id)).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(gaps(seen)).toEqual([{ type: 'interrupted' }])
    expect(seen.some((e) => e.type === 'deleted' && e.id === missed.id)).toBe(false)

    // A listener that subscribes during the gap learns of it at once.
    const late: SessionEvent[] = []
    proxied.subscribe((event) => late.push(event))
    expect(late).toEqual([{ type: 'interrupted' }])

    await proxy.acceptNew()
    await expect.poll(() => gaps(seen), { timeout: 3_000, interval: 10 }).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
    expect(gaps(late)).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
  })

  it('tells subscribers their events are interrupted when its pool cannot reach the database, and resyncs once a heartbeat gets through again', async () => {
    const { proxy, url: proxiedUrl } = await startPostgresProxy()
    proxies.push(proxy)
    const clock = createTestClock()
    const common = { tableName: table, clock: clock.now, logger: silentLogger, sweepInterval: 0, maxReconnectDelay: 50 }
    // Long enough that only the store's own probe after recovering can end the gap in time.
    const proxied = createPostgresStore({ ...common, connectionString: proxiedUrl, poolSize: 1, connectTimeout: 500, listenerCheckInterval: 60_000 })
    const direct = createPostgresStore({ ...common, connectionString: databaseUrl })
    stores.push(proxied, direct)
    await proxied.ready()
    const poolConnection = proxy.connections - 1
    const seen: SessionEvent[] = []
    proxied.subscribe((event) => seen.push(event))
    await proxied.ready()
    const stored = record(clock.now(), { userId: 'grace' })
    await direct.set(stored)

    // The database is unreachable for queries: the listener's idle socket would be the last to know.
    proxy.refuseNew()
    proxy.cutConnection(poolConnection)
    await expect(proxied.get(stored.id)).rejects.toBeInstanceOf(ServiceUnavailableError)
    expect(gaps(seen)).toEqual([{ type: 'interrupted' }])
    // Notifications that still arrive are delivered; the gap stays open all the same.
    await direct.delete(stored.id, 'revoked')
    await expect.poll(() => seen.some((e) => e.type === 'deleted' && e.id === stored.id), { timeout: 1_000, interval: 5 }).toBe(true)
    expect(gaps(seen)).toEqual([{ type: 'interrupted' }])

    await proxy.acceptNew()
    await expect.poll(() => proxied.get(stored.id).then(() => 'answers', () => 'down'), { timeout: 3_000, interval: 20 }).toBe('answers')
    await expect.poll(() => gaps(seen), { timeout: 2_000, interval: 5 }).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
  })

  it('recovers when its server connections are terminated by the database', async () => {
    const clock = createTestClock()
    const url = new URL(databaseUrl)
    url.searchParams.set('application_name', `${table}_victim`)
    const store = createPostgresStore({
      connectionString: url.toString(),
      tableName: table,
      clock: clock.now,
      logger: silentLogger,
      sweepInterval: 0,
      connectTimeout: 500,
      queryTimeout: 1_000,
      maxReconnectDelay: 100,
    })
    stores.push(store)
    const seen: SessionEvent[] = []
    store.subscribe((event) => seen.push(event))
    await store.ready()
    const stored = record(clock.now())
    await store.set(stored)
    const { rows } = await admin.query<{ pid: number }>('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      `${table}_victim`,
    ])
    // The pool's connections and the listener's.
    expect(rows.length).toBeGreaterThanOrEqual(2)
    // A call may meet a terminated connection: that is a 503, never a wrong answer.
    const first = await store.get(stored.id).catch((error: unknown) => error)
    if (first instanceof Error) expect(first).toBeInstanceOf(ServiceUnavailableError)
    else expect(first).toEqual(stored)
    await expect.poll(() => store.get(stored.id).catch(() => 'terminated'), { timeout: 5_000, interval: 50 }).toEqual(stored)
    // The listener re-opened by itself.
    const other = createPostgresStore({ connectionString: databaseUrl, tableName: table, clock: clock.now, logger: silentLogger, sweepInterval: 0 })
    stores.push(other)
    await expect
      .poll(
        async () => {
          const probe = record(clock.now(), { userId: 'carol' })
          await other.set(probe)
          await other.delete(probe.id, 'revoked')
          await new Promise((resolve) => setTimeout(resolve, 50))
          return seen.some((e) => e.type === 'deleted' && e.id === probe.id)
        },
        { timeout: 5_000, interval: 50 },
      )
      .toBe(true)
  })
})
