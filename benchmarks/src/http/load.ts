import autocannon from 'autocannon'
import type { ClientCredential } from './client.js'
import type { Scenario } from './scenarios.js'

export interface LoadOptions {
  readonly port: number
  readonly scenario: Scenario
  /** One per connection (round-robin); empty for variants without sessions. */
  readonly credentials: readonly ClientCredential[]
  readonly connections: number
  /** Seconds. */
  readonly duration: number
}

export interface Sample {
  /** Mean requests per second over the sample. */
  readonly rps: number
  /** 99th percentile latency, ms. */
  readonly p99: number
  readonly p50: number
  readonly total: number
  /** Responses that were not 2xx: a sample with any is not a valid measurement. */
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
  /** Server CPU time (user + system) per request, µs; filled in by the caller. */
  cpuMicrosPerRequest?: number
}

/** One autocannon run in this (the parent) process against a child-process server. */
export async function measure(options: LoadOptions): Promise<Sample> {
  const { scenario, credentials } = options
  let next = 0
  const baseHeaders: Record<string, string> = scenario.bodies === undefined ? {} : { 'content-type': 'application/json' }
  const requestsWith = (headers: Record<string, string>): autocannon.Request[] =>
    (scenario.bodies ?? [undefined]).map((body) => ({ method: scenario.method, path: scenario.path, headers, ...(body === undefined ? {} : { body }) }))
  const result = await autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    duration: options.duration,
    pipelining: 1,
    requests: requestsWith(baseHeaders),
    // Each connection is one user: its own credential, set once, so every request is pre-built.
    setupClient: (client) => {
      if (!scenario.authenticated || credentials.length === 0) return
      const credential = credentials[next++ % credentials.length]!
      client.setRequests(requestsWith({ ...baseHeaders, [credential.header]: credential.value }))
    },
  })
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }
}
