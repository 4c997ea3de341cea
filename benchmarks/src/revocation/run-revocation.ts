/**
 * The revocation-latency benchmark: two server processes (A and B) share one store (Redis or
 * PostgreSQL), both with the read cache and both under load. A user logs out on B; how long does A
 * keep answering 200 with the logged-out cookie? Then A's link to the store is cut (a TCP proxy
 * between A and the store): A must answer 503, never 200, for sessions revoked meanwhile, and
 * 401 for them once the link is back.
 *
 * The window of one revocation: from the moment B acknowledged the logout to the send time of the
 * last request A answered 200 (0 when A's first answer after it was already 401). A's probe sends
 * one request at a time, so the resolution is one round trip under load.
 */
import { randomUUID } from 'node:crypto'
import autocannon from 'autocannon'
import pg from 'pg'
import { startChild, stopChild, type Started } from '../http/child-server.js'
import { BenchClient } from '../http/client.js'
import { percentile, round } from '../report/stats.js'
import { startCutProxy } from './cut-proxy.js'

export type RevocationBackend = 'redis' | 'postgres'

export interface RevocationOptions {
  /** Revocations timed. */
  readonly revocations: number
  /** Revocations made while A is cut off from the store. */
  readonly cutRevocations: number
  /** autocannon connections per server for the background load. */
  readonly loadConnections: number
}

export interface RevocationResult {
  readonly backend: RevocationBackend
  readonly revocations: number
  /** How long A answered 200 after B acknowledged a logout, ms. */
  readonly windowMs: { readonly p50: number; readonly p99: number; readonly max: number }
  /** Revocations A still answered 200 for after the logout was acknowledged. */
  readonly answeredAfterLogout: number
  /** While cut off: A's answers for sessions revoked meanwhile, by status. */
  readonly duringCut: Record<string, number>
  /** After the link came back: A's answers for those sessions, by status. */
  readonly afterRestore: Record<string, number>
  /** Background requests answered per second on A and B together. */
  readonly backgroundRps: number
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function countBy(values: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1
  return counts
}

/** Starts the cached Pikku variant twice on one store: A through the proxy, B directly. */
async function startPair(backend: RevocationBackend, proxyUrl: string): Promise<{ a: Started; b: Started; cleanUp: () => Promise<void> }> {
  const variant = backend === 'redis' ? 'pikku-cookie-redis-cached' : 'pikku-cookie-postgres-cached'
  const urlVariable = backend === 'redis' ? 'REDIS_URL' : 'DATABASE_URL'
  const shared = backend === 'redis' ? 'BENCH_REDIS_PREFIX' : 'BENCH_PG_TABLE'
  const direct = process.env[urlVariable]
  const sharedName = backend === 'redis' ? `pikku-bench-revocation:${randomUUID()}` : `pikku_bench_revocation_${process.pid}`
  // The children inherit this environment when forked.
  process.env[shared] = sharedName
  try {
    process.env[urlVariable] = proxyUrl
    const a = await startChild(variant)
    if (direct === undefined) delete process.env[urlVariable]
    else process.env[urlVariable] = direct
    const b = await startChild(variant)
    const cleanUp = async (): Promise<void> => {
      if (backend !== 'postgres') return
      const admin = new pg.Pool({ connectionString: direct ?? 'postgres://postgres@127.0.0.1:5432/test', max: 1 })
      await admin.query(`DROP TABLE IF EXISTS "${sharedName}", "${sharedName}_schema"`)
      await admin.query(`DROP PROCEDURE IF EXISTS "${sharedName}_update", "${sharedName}_touch"`)
      await admin.end()
    }
    return { a, b, cleanUp }
  } finally {
    delete process.env[shared]
    if (direct === undefined) delete process.env[urlVariable]
    else process.env[urlVariable] = direct
  }
}

/** GET /profile on `base` with `cookie`, one request at a time, until `stop()` says so. */
async function probe(base: string, cookie: string, stop: () => boolean): Promise<{ sentAt: number; status: number }[]> {
  const answers: { sentAt: number; status: number }[] = []
  while (!stop()) {
    const sentAt = performance.now()
    const response = await fetch(`${base}/profile`, { headers: { cookie } })
    await response.arrayBuffer()
    answers.push({ sentAt, status: response.status })
  }
  return answers
}

export async function runRevocation(backend: RevocationBackend, options: RevocationOptions, log: (line: string) => void): Promise<RevocationResult> {
  const target =
    backend === 'redis' ? new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379') : new URL(process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test')
  const proxy = await startCutProxy({ host: target.hostname, port: Number(target.port || (backend === 'redis' ? 6379 : 5432)) })
  const proxied = new URL(target)
  proxied.hostname = '127.0.0.1'
  proxied.port = String(proxy.port)
  const { a, b, cleanUp } = await startPair(backend, proxied.toString())
  const baseA = `http://127.0.0.1:${a.port}`
  const baseB = `http://127.0.0.1:${b.port}`
  try {
    // Background load on both servers: users who stay logged in.
    const loadCookies: string[] = []
    for (const base of [baseA, baseB]) {
      for (let i = 0; i < 10; i++) {
        const client = new BenchClient(base, 'cookie')
        await client.login(`load-${i}`)
        loadCookies.push(client.credential!.value)
      }
    }
    const loads = [baseA, baseB].map((url, index) => {
      let finish: (result: autocannon.Result) => void = () => undefined
      const finished = new Promise<autocannon.Result>((resolve) => (finish = resolve))
      const instance = autocannon(
        {
          url,
          connections: options.loadConnections,
          duration: 3600,
          requests: [{ method: 'GET', path: '/profile', headers: { cookie: loadCookies[index * 10]! } }],
        },
        (_error, result) => finish(result),
      )
      return { instance, finished }
    })
    const windows: number[] = []
    let answeredAfter = 0
    for (let i = 0; i < options.revocations; i++) {
      const user = new BenchClient(baseB, 'cookie')
      await user.login(`revoked-${i}`)
      const cookie = user.credential!.value
      // A reads the session (and caches it) before the logout.
      for (let warm = 0; warm < 3; warm++) await fetch(`${baseA}/profile`, { headers: { cookie } }).then((r) => r.arrayBuffer())
      let acknowledgedAt = Number.POSITIVE_INFINITY
      let done = false
      const probing = probe(baseA, cookie, () => done)
      await sleep(5)
      const logout = await fetch(`${baseB}/logout`, { method: 'POST', headers: { cookie } })
      await logout.arrayBuffer()
      acknowledgedAt = performance.now()
      if (logout.status !== 200) throw new Error(`logout on B answered ${logout.status}`)
      // Long enough to see any window up to a second and beyond.
      const until = acknowledgedAt + 1_500
      while (performance.now() < until) {
        await sleep(20)
      }
      done = true
      const answers = await probing
      const lastOk = answers.filter((answer) => answer.status === 200 && answer.sentAt >= acknowledgedAt).at(-1)
      if (lastOk !== undefined) answeredAfter++
      windows.push(lastOk === undefined ? 0 : lastOk.sentAt - acknowledgedAt)
    }

    // The cut: A can reach neither its events nor the store.
    const cutUsers: string[] = []
    for (let i = 0; i < options.cutRevocations; i++) {
      const user = new BenchClient(baseB, 'cookie')
      await user.login(`cut-${i}`)
      cutUsers.push(user.credential!.value)
      for (let warm = 0; warm < 3; warm++) await fetch(`${baseA}/profile`, { headers: { cookie: user.credential!.value } }).then((r) => r.arrayBuffer())
    }
    await proxy.cut()
    const duringCut: number[] = []
    for (const cookie of cutUsers) {
      const logout = await fetch(`${baseB}/logout`, { method: 'POST', headers: { cookie } })
      await logout.arrayBuffer()
      for (let attempt = 0; attempt < 5; attempt++) {
        const response = await fetch(`${baseA}/profile`, { headers: { cookie } })
        await response.arrayBuffer()
        duringCut.push(response.status)
      }
    }
    await proxy.restore()
    // Until A answers again (its reconnection backoff), then what it says about the revoked sessions.
    const restoredBy = performance.now() + 10_000
    while (performance.now() < restoredBy) {
      const response = await fetch(`${baseA}/profile`, { headers: { cookie: loadCookies[0]! } })
      await response.arrayBuffer()
      if (response.status === 200) break
      await sleep(50)
    }
    const afterRestore: number[] = []
    for (const cookie of cutUsers) {
      const response = await fetch(`${baseA}/profile`, { headers: { cookie } })
      await response.arrayBuffer()
      afterRestore.push(response.status)
    }

    for (const load of loads) load.instance.stop()
    const totals = await Promise.all(loads.map((load) => load.finished))
    const backgroundRps = totals.reduce((sum, result) => sum + result.requests.average, 0)
    const sorted = [...windows].sort((x, y) => x - y)
    const result: RevocationResult = {
      backend,
      revocations: windows.length,
      windowMs: { p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)), max: round(sorted.at(-1) ?? 0) },
      answeredAfterLogout: answeredAfter,
      duringCut: countBy(duringCut),
      afterRestore: countBy(afterRestore),
      backgroundRps: round(backgroundRps),
    }
    log(`  ${backend}: ${JSON.stringify(result)}`)
    return result
  } finally {
    await Promise.all([stopChild(a.child), stopChild(b.child)])
    await proxy.close()
    await cleanUp()
  }
}
