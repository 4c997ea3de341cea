import autocannon from 'autocannon'
import type { ClientCredential } from './client.js'
import type { Scenario } from './scenarios.js'
import { percentile, round } from '../report/stats.js'

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
  /**
   * 99th percentile latency, ms, to the microsecond: from every response's own time (autocannon's
   * histogram keeps whole milliseconds, too coarse when both sides of a comparison are 1-2 ms).
   */
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
  // Every response's latency in ms, as autocannon's client measures it (fractional, from hrtime).
  let latencies = new Float64Array(1 << 16)
  let count = 0
  const record = (_status: number, _bytes: number, duration: number): void => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2)
      grown.set(latencies)
      latencies = grown
    }
    latencies[count++] = duration
  }
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
      client.on('response', record)
      if (!scenario.authenticated || credentials.length === 0) return
      const credential = credentials[next++ % credentials.length]!
      client.setRequests(requestsWith({ ...baseHeaders, [credential.header]: credential.value }))
    },
  })
  return {
    rps: result.requests.average,
    ...latencyPercentiles(latencies.subarray(0, count), result.latency),
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }
}

/** p50 and p99 of the recorded latencies in ms, to the microsecond; autocannon's own when none were recorded. */
function latencyPercentiles(recorded: Float64Array, fallback: { p50: number; p99: number }): { p50: number; p99: number } {
  if (recorded.length === 0) return { p50: fallback.p50, p99: fallback.p99 }
  const sorted = Array.from(Float64Array.from(recorded).sort())
  return { p50: round(percentile(sorted, 0.5), 3), p99: round(percentile(sorted, 0.99), 3) }
}
