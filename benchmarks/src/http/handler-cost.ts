import { createMemoryStore } from '@pikku/core'
import type { HTTPHandler, IncomingHTTP } from '@pikku/http'
import type { Profile } from './app.js'
import { createPikkuHandler } from './variants/pikku-app.js'
import { round } from '../report/stats.js'

/**
 * CPU time per request of Pikku's handler alone, in this process, without sockets: on a machine
 * where the kernel's socket writes dominate (as on this one), this shows what the session layer
 * itself costs, free of network noise.
 */
export interface HandlerCostRow {
  readonly config: string
  readonly route: string
  /** Microseconds per request. */
  readonly micros: number
  /** Microseconds above the same route without session middleware. */
  readonly addedMicros: number
}

/** A request for `handler.handle()` without sockets (also used by compare-trees-in-process). */
export function request(method: string, path: string, headers: Record<string, string>, body = ''): IncomingHTTP {
  return {
    method,
    path,
    query: '',
    secure: false,
    origin: () => 'http://127.0.0.1',
    header: (name) => headers[name],
    readBody: () => Promise.resolve(body),
  }
}

/** Microseconds per request over `count` requests made one after another. */
async function timeRequests(count: number, handle: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < count; i++) await handle(i)
  return ((performance.now() - started) * 1000) / count
}

const CONFIGS = [
  { config: 'no session middleware', credential: 'none' },
  { config: 'cookie, memory store', credential: 'cookie' },
  { config: 'bearer JWT, memory store', credential: 'bearer' },
] as const

interface Case {
  readonly config: string
  readonly credential: 'none' | 'cookie' | 'bearer'
  readonly route: string
  readonly handle: (i: number) => Promise<unknown>
  readonly samples: number[]
}

/**
 * Interleaved like the HTTP benchmark: every round times each configuration and route in turn for
 * a short slice. The best round is reported: other work on the machine only ever adds time to an
 * in-process loop, so the minimum is the estimate least disturbed by it.
 */
export async function runHandlerCost(rounds: number, sliceMs: number): Promise<HandlerCostRow[]> {
  const cases: Case[] = []
  const stores: { close?: () => Promise<void> }[] = []
  for (const { config, credential } of CONFIGS) {
    const store = credential === 'none' ? undefined : createMemoryStore<Profile>({ sweepInterval: 0 })
    if (store !== undefined) stores.push(store)
    const handler: HTTPHandler = createPikkuHandler({ credential, ...(store === undefined ? {} : { store }) })
    const login = await handler.handle(request('POST', '/login', { 'content-type': 'application/json' }, '{"username":"cost"}'))
    const headers: Record<string, string> = {}
    if (credential === 'cookie') headers['cookie'] = login.headers.find(([name]) => name === 'set-cookie')![1].split(';', 1)[0]!
    if (credential === 'bearer') headers['authorization'] = `Bearer ${(JSON.parse(login.body) as { token: string }).token}`
    const putHeaders = { ...headers, 'content-type': 'application/json' }
    const profile = request('GET', '/profile', headers)
    const publicPage = request('GET', '/public', {})
    const puts = [request('PUT', '/preferences', putHeaders, '{"theme":"dark","fontSize":15}'), request('PUT', '/preferences', putHeaders, '{"theme":"dark","fontSize":16}')]
    const routes: [string, (i: number) => Promise<unknown>][] = [
      ['GET /profile', () => handler.handle(profile)],
      ['PUT /preferences', (i) => handler.handle(puts[i % 2]!)],
      ['GET /public', () => handler.handle(publicPage)],
    ]
    for (const [route, handle] of routes) {
      const check = (await handle(1)) as { status: number }
      if (check.status !== 200) throw new Error(`${config} ${route} answered ${check.status}`)
      cases.push({ config, credential, route, handle, samples: [] })
    }
  }
  // Warm-up (JIT) and sizing: how many requests fill one slice for each case.
  const counts = new Map<Case, number>()
  for (const entry of cases) {
    const micros = await timeRequests(2_000, entry.handle)
    counts.set(entry, Math.max(200, Math.round((sliceMs * 1000) / micros)))
  }
  for (let round = 0; round < rounds; round++) {
    for (const entry of cases) entry.samples.push(await timeRequests(counts.get(entry)!, entry.handle))
  }
  for (const store of stores) await store.close?.()
  const best = (samples: readonly number[]): number => Math.min(...samples)
  const baseline = new Map(cases.filter((entry) => entry.credential === 'none').map((entry) => [entry.route, best(entry.samples)]))
  return cases.map((entry) => {
    const micros = best(entry.samples)
    return { config: entry.config, route: entry.route, micros: round(micros, 2), addedMicros: round(micros - baseline.get(entry.route)!, 2) }
  })
}
