import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type SessionEvent, type SessionRecord, ServiceUnavailableError, silentLogger } from '@pikku/core'
import { createTestClock } from '@pikku/core/testing'
import { createClient } from 'redis'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisStore, type RedisStore } from './redis-store.js'
import { freePort, redisBinariesAvailable } from './redis-test-servers.test-support.js'
import { record, type TestSession } from './redis-test-stores.test-support.js'

// This file runs its own throwaway redis-server (never the shared one), so it can kill it.
const serverBinary = process.env['REDIS_SERVER_BIN'] ?? 'redis-server'
const binaryWorks = await redisBinariesAvailable('Redis failure and recovery tests')

const MINUTE = 60_000
const dataDir = mkdtempSync(join(tmpdir(), 'pikku-redis-recovery-'))

async function startServer(port: number): Promise<ChildProcess> {
  // appendfsync always: a write Redis acknowledged is on disk, so a kill -9 loses none of them.
  // One directory per port: a restarted server replays its own append-only file.
  const dir = join(dataDir, String(port))
  mkdirSync(dir, { recursive: true })
  const child = spawn(
    serverBinary,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
    { stdio: 'ignore' },
  )
  const probe = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: 20, connectTimeout: 500 } })
  probe.on('error', () => undefined)
  try {
    await probe.connect()
    await expect.poll(async () => (await probe.ping().catch(() => 'not yet')) === 'PONG', { timeout: 5_000, interval: 20 }).toBe(true)
  } finally {
    probe.destroy()
  }
  return child
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

describe.skipIf(!binaryWorks)('Redis store when the server dies and comes back', () => {
  const children: ChildProcess[] = []
  const stores: RedisStore[] = []

  afterAll(async () => {
    try {
      await Promise.all(stores.map((store) => store.close()))
    } finally {
      await Promise.all(children.map((child) => (child.kill('SIGCONT'), kill(child))))
    }
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('fails with ServiceUnavailableError while Redis is down, then recovers by itself without losing acknowledged writes', async () => {
    const port = await freePort()
    children.push(await startServer(port))
    const clock = createTestClock()
    const options = { url: `redis://127.0.0.1:${port}`, keyPrefix: 'recovery', clock: clock.now, logger: silentLogger, connectTimeout: 500, commandTimeout: 1_000, maxReconnectDelay: 100 }
    const serverA = createRedisStore(options)
    const serverB = createRedisStore(options)
    stores.push(serverA, serverB)
    const seenByB: SessionEvent[] = []
    serverB.subscribe((event) => seenByB.push(event))
    await serverB.ready()

    const acknowledged = Array.from({ length: 20 }, () => record(clock.now()))
    for (const r of acknowledged) await serverA.set(r)

    await kill(children[0]!)
    const started = Date.now()
    const failure = await serverA.get(acknowledged[0]!.id).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ServiceUnavailableError)
    // Callers see a fixed message; the driver's (naming the host and port) is only the cause.
    expect((failure as Error).message).toBe('The session store is unavailable; try again shortly')
    expect((failure as Error).message).not.toContain(String(port))
    expect((failure as Error).cause).toBeInstanceOf(Error)
    await expect(serverA.set(record(clock.now()))).rejects.toBeInstanceOf(ServiceUnavailableError)
    await expect(serverA.listByUser('alice')).rejects.toBeInstanceOf(ServiceUnavailableError)
    // Failing fast, not hanging until a timeout.
    expect(Date.now() - started).toBeLessThan(1_500)

    children.push(await startServer(port))
    await expect.poll(() => serverA.get(acknowledged[0]!.id).catch(() => 'still down'), { timeout: 5_000, interval: 50 }).toEqual(acknowledged[0])
    for (const r of acknowledged) expect(await serverA.get(r.id)).toEqual(r)
    expect(await serverA.listByUser('alice')).toHaveLength(20)

    // The subscriber connection came back too: revocations flow again.
    const afterRestart = record(clock.now(), { userId: 'bob' })
    await serverA.set(afterRestart)
    await expect
      .poll(
        async () => {
          await serverA.delete(afterRestart.id, 'revoked').catch(() => false)
          await serverA.set(afterRestart)
          return seenByB.some((e) => e.type === 'deleted' && e.id === afterRestart.id)
        },
        { timeout: 5_000, interval: 100 },
      )
      .toBe(true)
    // Events published while it was down are gone; its subscribers were told when it went down
    // and to re-check once it was back. (A command connection still failing after the
    // subscription came back may open a second gap, closed by the next heartbeat.)
    expect(seenByB.filter((e) => e.type === 'interrupted' || e.type === 'resync').slice(0, 2)).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
    expect(seenByB.filter((e) => e.type === 'resync')).toEqual([{ type: 'resync' }])
  })

  it('recovers by itself after crash after crash, with every acknowledged write intact', async () => {
    const port = await freePort()
    let server = await startServer(port)
    children.push(server)
    const clock = createTestClock()
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'crashes', clock: clock.now, logger: silentLogger, connectTimeout: 500, commandTimeout: 500, maxReconnectDelay: 50 })
    stores.push(store)
    const acknowledged: SessionRecord[] = []
    // Reconnections racing a dying server are where clients get stuck; several rounds exercise it.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 5; i++) {
        const r = record(clock.now())
        await store.set(r)
        acknowledged.push(r)
      }
      await kill(server)
      await expect(store.get(acknowledged[0]!.id)).rejects.toBeInstanceOf(ServiceUnavailableError)
      server = await startServer(port)
      children.push(server)
      await expect.poll(() => store.get(acknowledged[0]!.id).catch(() => 'down'), { timeout: 5_000, interval: 25 }).toEqual(acknowledged[0])
    }
    for (const r of acknowledged) expect(await store.get(r.id)).toEqual(r)
  }, 30_000)

  it('answers ServiceUnavailableError within its command timeout when Redis hangs, and carries on when it resumes', async () => {
    const port = await freePort()
    const server = await startServer(port)
    children.push(server)
    const clock = createTestClock()
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'hang', clock: clock.now, logger: silentLogger, connectTimeout: 500, commandTimeout: 300, maxReconnectDelay: 100 })
    stores.push(store)
    const stored = record(clock.now())
    await store.set(stored)
    // SIGSTOP: the socket stays open but nothing answers, the worst case for a client.
    server.kill('SIGSTOP')
    try {
      const started = Date.now()
      await expect(store.get(stored.id)).rejects.toBeInstanceOf(ServiceUnavailableError)
      expect(Date.now() - started).toBeLessThan(1_500)
    } finally {
      server.kill('SIGCONT')
    }
    await expect.poll(() => store.get(stored.id).catch(() => 'hung'), { timeout: 5_000, interval: 50 }).toEqual(stored)
  })

  it('fails a write and a read in flight against a hung Redis with ServiceUnavailableError within their deadlines', async () => {
    const port = await freePort()
    const server = await startServer(port)
    children.push(server)
    const clock = createTestClock()
    const commandTimeout = 400
    const store = createRedisStore<TestSession>({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'hang-many', clock: clock.now, logger: silentLogger, connectTimeout: 500, commandTimeout, maxReconnectDelay: 100 })
    stores.push(store)
    const stored = record(clock.now())
    await store.set(stored)
    server.kill('SIGSTOP')
    try {
      const settledAfter = (operation: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> => {
        const started = performance.now()
        return operation().then(
          () => ({ error: undefined, ms: performance.now() - started }),
          (error: unknown) => ({ error, ms: performance.now() - started }),
        )
      }
      // Started 200 ms apart, both timed by the store's one deadline timer. The write gets its full
      // timeout; its expiry replaces the stuck connection, which may fail the read sooner (a 503 too).
      const write = settledAfter(() => store.update(stored.id, stored.version, { data: { ...stored.data }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt }))
      await new Promise((resolve) => setTimeout(resolve, 200))
      const read = settledAfter(() => store.get(stored.id))
      const [wrote, readOutcome] = [await write, await read]
      expect(wrote.error).toBeInstanceOf(ServiceUnavailableError)
      expect(wrote.ms).toBeGreaterThanOrEqual(commandTimeout - 1)
      expect(wrote.ms).toBeLessThan(commandTimeout + 1_100)
      expect(readOutcome.error).toBeInstanceOf(ServiceUnavailableError)
      expect(readOutcome.ms).toBeLessThan(commandTimeout + 1_100)
    } finally {
      server.kill('SIGCONT')
    }
    await expect.poll(() => store.get(stored.id).catch(() => 'hung'), { timeout: 5_000, interval: 50 }).toEqual(stored)
  })

  it('fails fast when Redis was never reachable and connects once it appears', async () => {
    const port = await freePort()
    const clock = createTestClock()
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'late', clock: clock.now, logger: silentLogger, connectTimeout: 500, commandTimeout: 1_000, maxReconnectDelay: 100 })
    stores.push(store)
    await expect(store.get('anything')).rejects.toBeInstanceOf(ServiceUnavailableError)
    children.push(await startServer(port))
    const stored = record(clock.now())
    await expect.poll(() => store.set(stored).then(() => 'ok', () => 'down'), { timeout: 5_000, interval: 50 }).toBe('ok')
    expect(await store.get(stored.id)).toEqual(stored)
  })
})
