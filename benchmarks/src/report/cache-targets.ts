import type { HTTPResults } from '../http/run-http.js'
import type { RevocationResult } from '../revocation/run-revocation.js'
import { round } from './stats.js'

/** One row of the targets of issue 19 (the read cache and writes in one round trip). */
export interface TargetRow {
  readonly target: string
  readonly measured: number | string
  readonly goal: string
  readonly met: 'yes' | 'NO' | 'n/a'
}

const REDIS_PEERS = ['express-session-redis', 'fastify-session-redis']

/**
 * The targets, from the medians of one run: ratios use each variant's median req/s, as the run's
 * "× bare" column does. A variant that did not run (its service was down) gives 'n/a'.
 */
export function cacheTargets(http: HTTPResults | undefined, revocation: readonly RevocationResult[]): TargetRow[] {
  const scenario = (variant: string, name: string) => {
    const found = http?.variants.find((candidate) => candidate.name === variant && candidate.status === 'ok')
    return found?.scenarios[name]
  }
  const rows: TargetRow[] = []
  const ratio = (target: string, over: number | undefined, under: number | undefined, goal: number, atMost = false): void => {
    if (over === undefined || under === undefined || !Number.isFinite(over) || !Number.isFinite(under) || under === 0) {
      rows.push({ target, measured: '—', goal: `${atMost ? '≤' : '≥'} ${goal}`, met: 'n/a' })
      return
    }
    const value = round(over / under)
    rows.push({ target, measured: value, goal: `${atMost ? '≤' : '≥'} ${goal}`, met: (atMost ? value <= goal : value >= goal) ? 'yes' : 'NO' })
  }
  const fastestPeer = (name: string): number | undefined => {
    const rates = REDIS_PEERS.map((peer) => scenario(peer, name)?.rps).filter((rps): rps is number => rps !== undefined && Number.isFinite(rps))
    return rates.length === 0 ? undefined : Math.max(...rates)
  }
  const get = 'GET /profile'
  const put = 'PUT /preferences'
  ratio('cookie GET /profile, Redis + cache ÷ memory store', scenario('pikku-cookie-redis-cached', get)?.rps, scenario('pikku-cookie-memory', get)?.rps, 0.85)
  ratio('cookie GET /profile, Redis + cache ÷ fastest Redis-backed peer', scenario('pikku-cookie-redis-cached', get)?.rps, fastestPeer(get), 3)
  ratio('cookie GET /profile, PostgreSQL + cache ÷ memory store', scenario('pikku-cookie-postgres-cached', get)?.rps, scenario('pikku-cookie-memory', get)?.rps, 0.85)
  ratio('PUT /preferences, Redis + cache ÷ bare', scenario('pikku-cookie-redis-cached', put)?.rps, scenario('bare', put)?.rps, 0.45)
  ratio('PUT /preferences, Redis + cache ÷ fastest Redis-backed peer', scenario('pikku-cookie-redis-cached', put)?.rps, fastestPeer(put), 2)
  ratio('p99 of cookie GET /profile, Redis + cache ÷ memory store', scenario('pikku-cookie-redis-cached', get)?.p99, scenario('pikku-cookie-memory', get)?.p99, 1.5, true)
  for (const result of revocation) {
    rows.push({ target: `revocation on ${result.backend}: p99 window (ms)`, measured: result.windowMs.p99, goal: '≤ 100', met: result.windowMs.p99 <= 100 ? 'yes' : 'NO' })
    rows.push({ target: `revocation on ${result.backend}: max window (ms)`, measured: result.windowMs.max, goal: '≤ 1000', met: result.windowMs.max <= 1000 ? 'yes' : 'NO' })
    const okDuringCut = result.duringCut['200'] ?? 0
    rows.push({ target: `revocation on ${result.backend}: 200s for revoked sessions while cut off`, measured: okDuringCut, goal: '0 (503 instead)', met: okDuringCut === 0 ? 'yes' : 'NO' })
    const okAfter = result.afterRestore['200'] ?? 0
    rows.push({ target: `revocation on ${result.backend}: 200s for them after the link is back`, measured: okAfter, goal: '0 (401)', met: okAfter === 0 ? 'yes' : 'NO' })
  }
  return rows
}
