import { childCpu, startChild, stopChild, type Started } from './child-server.js'
import type { ClientCredential } from './client.js'
import { checkVariant, loginPool } from './correctness.js'
import { measure, type Sample } from './load.js'
import { SCENARIOS } from './scenarios.js'
import { VARIANTS, type VariantInfo } from './variant.js'
import { median, round } from '../report/stats.js'

export interface HTTPOptions {
  readonly rounds: number
  readonly duration: number
  readonly warmup: number
  readonly connections: number
  /** Logged-in users; connections take their credentials round-robin. */
  readonly users: number
  /** Variant names to run (bare is always added); all when empty. */
  readonly only: readonly string[]
  /** Scenario names to run; all when empty. */
  readonly scenarios: readonly string[]
  /** Variant names whose server runs under `node --cpu-prof`, profiles written to this directory. */
  readonly profile: readonly string[]
  readonly profileDir: string
}

export interface ScenarioResult {
  readonly samples: readonly Sample[]
  readonly rps: number
  readonly p99: number
  readonly ratioToBare: number
  /** Median server CPU time per request, µs (robust to other load on the machine). */
  readonly cpuMicros: number
  /** Bare's CPU per request ÷ this variant's: the throughput ratio a quiet machine would give. */
  readonly cpuRatioToBare: number
  /**
   * The median over rounds of (this variant's req/s ÷ bare's req/s in the same round): samples
   * taken seconds apart share most of the machine's background load, so the pairs cancel it.
   */
  readonly pairedRatioToBare: number
  /** The best round's req/s: other work on the machine only ever lowers throughput. */
  readonly bestRps: number
  /** Best round ÷ bare's best round: the estimate least disturbed by other work. */
  readonly bestRatioToBare: number
  /** Samples with non-2xx answers, errors or timeouts (not valid measurements). */
  readonly invalidSamples: number
}

export interface VariantResult {
  readonly name: string
  readonly label: string
  readonly family: VariantInfo['family']
  readonly status: 'ok' | 'broken'
  readonly problems: readonly string[]
  readonly scenarios: Record<string, ScenarioResult>
}

export interface HTTPResults {
  readonly options: HTTPOptions
  readonly variants: readonly VariantResult[]
}

const valid = (sample: Sample): boolean => sample.non2xx === 0 && sample.errors === 0 && sample.timeouts === 0

/**
 * Every variant in its own process; for each round, each scenario, each variant in turn, so that a
 * burst of noise from other work on the machine lands on all of them alike. The order reverses
 * every other round (A B C, C B A, A B C, …): a variant sampled right after another one (its
 * garbage collection, the kernel's socket state) is first as often as last.
 */
export async function runHTTP(options: HTTPOptions, log: (line: string) => void): Promise<HTTPResults> {
  const selected = VARIANTS.filter((info) => info.name === 'bare' || options.only.length === 0 || options.only.includes(info.name))
  const scenarios = SCENARIOS.filter((scenario) => options.scenarios.length === 0 || options.scenarios.includes(scenario.name))
  const started: Started[] = []
  const results = new Map<string, { info: VariantInfo; problems: string[]; credentials: ClientCredential[]; samples: Map<string, Sample[]> }>()
  try {
    for (const info of selected) {
      const problems: string[] = []
      let credentials: ClientCredential[] = []
      try {
        const server = await startChild(info.name, options.profile.includes(info.name) ? options.profileDir : undefined)
        started.push(server)
        const base = `http://127.0.0.1:${server.port}`
        const check = await checkVariant(info, base)
        problems.push(...check.problems)
        if (check.ok) credentials = await loginPool(info, base, options.users)
      } catch (error) {
        problems.push((error as Error).message)
      }
      log(`  ${info.name}: ${problems.length === 0 ? 'correct' : `BROKEN (${problems.join('; ')})`}`)
      results.set(info.name, { info, problems, credentials, samples: new Map(scenarios.map((scenario) => [scenario.name, []])) })
    }
    const timed = started.filter((server) => results.get(server.name)!.problems.length === 0)

    for (const scenario of scenarios) {
      for (const server of timed) {
        const entry = results.get(server.name)!
        await measure({ port: server.port, scenario, credentials: entry.credentials, connections: options.connections, duration: options.warmup })
      }
    }
    for (let roundIndex = 1; roundIndex <= options.rounds; roundIndex++) {
      const order = roundIndex % 2 === 1 ? timed : [...timed].reverse()
      for (const scenario of scenarios) {
        for (const server of order) {
          const entry = results.get(server.name)!
          const cpuBefore = await childCpu(server.child)
          const sample = await measure({ port: server.port, scenario, credentials: entry.credentials, connections: options.connections, duration: options.duration })
          sample.cpuMicrosPerRequest = round(((await childCpu(server.child)) - cpuBefore) / Math.max(sample.total, 1), 2)
          entry.samples.get(scenario.name)!.push(sample)
        }
        log(`  round ${roundIndex}/${options.rounds} ${scenario.name}: ${timed.map((server) => `${server.name} ${Math.round(results.get(server.name)!.samples.get(scenario.name)!.at(-1)!.rps)}`).join(', ')}`)
      }
    }
  } finally {
    await Promise.all(started.map((server) => stopChild(server.child)))
  }

  const bareCpu = new Map(scenarios.map((scenario) => [scenario.name, median((results.get('bare')?.samples.get(scenario.name) ?? []).filter(valid).map((s) => s.cpuMicrosPerRequest ?? Number.NaN))]))
  const bareRps = new Map(scenarios.map((scenario) => [scenario.name, median((results.get('bare')?.samples.get(scenario.name) ?? []).filter(valid).map((s) => s.rps))]))
  const bareSamples = new Map(scenarios.map((scenario) => [scenario.name, results.get('bare')?.samples.get(scenario.name) ?? []]))
  const variants: VariantResult[] = [...results.values()].map(({ info, problems, samples }) => {
    const perScenario: Record<string, ScenarioResult> = {}
    const allProblems = [...problems]
    for (const scenario of scenarios) {
      const list = samples.get(scenario.name) ?? []
      const good = list.filter(valid)
      const invalid = list.length - good.length
      if (invalid > 0) {
        const bad = list.find((sample) => !valid(sample))!
        allProblems.push(`${scenario.name}: ${invalid} sample(s) had non-2xx ${bad.non2xx}, errors ${bad.errors}, timeouts ${bad.timeouts}`)
      }
      const rps = median(good.map((sample) => sample.rps))
      const cpu = median(good.map((sample) => sample.cpuMicrosPerRequest ?? Number.NaN))
      const bare = bareSamples.get(scenario.name)!
      // Round i of this variant against round i of bare, both valid.
      const paired = list.flatMap((sample, index) => {
        const partner = bare[index]
        return partner !== undefined && valid(sample) && valid(partner) ? [sample.rps / partner.rps] : []
      })
      const best = Math.max(...good.map((sample) => sample.rps))
      const bareBest = Math.max(...bare.filter(valid).map((sample) => sample.rps))
      perScenario[scenario.name] = {
        samples: list,
        rps: round(rps, 0),
        p99: median(good.map((sample) => sample.p99)),
        ratioToBare: round(rps / bareRps.get(scenario.name)!, 3),
        cpuMicros: round(cpu, 1),
        cpuRatioToBare: round(bareCpu.get(scenario.name)! / cpu, 3),
        pairedRatioToBare: round(median(paired), 3),
        bestRps: round(best, 0),
        bestRatioToBare: round(best / bareBest, 3),
        invalidSamples: invalid,
      }
    }
    return { name: info.name, label: info.label, family: info.family, status: allProblems.length === 0 ? 'ok' : 'broken', problems: allProblems, scenarios: perScenario }
  })
  return { options, variants }
}
