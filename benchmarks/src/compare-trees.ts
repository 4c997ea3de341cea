/**
 * `node dist/compare-trees.js <other-checkout> [variant] [scenarios]`: the same variant served by
 * this checkout's packages and by another checkout's (for example one with a proposed fix
 * applied, built, and with its benchmarks compiled), timed interleaved with bare node:http in one
 * run, so that a change is judged on the same machine at the same moment.
 *
 *   node dist/compare-trees.js /tmp/patched pikku-cookie-memory "GET /profile,PUT /preferences"
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { childCpu, startChild, stopChild, type Started } from './http/child-server.js'
import { pinLoadGenerator, pinServer, pinningNote } from './pin.js'
import type { ClientCredential } from './http/client.js'
import { loginPool } from './http/correctness.js'
import { measure, type Sample } from './http/load.js'
import { SCENARIOS } from './http/scenarios.js'
import { VARIANTS } from './http/variant.js'
import { median, round } from './report/stats.js'
import { formatTable } from './report/table.js'

const [other, variantName = 'pikku-cookie-memory', scenarioList = 'GET /profile,PUT /preferences'] = process.argv.slice(2)
if (other === undefined) {
  console.error('usage: compare-trees.js <other-checkout> [variant] [scenarios]')
  process.exit(2)
}
const info = VARIANTS.find((variant) => variant.name === variantName)
if (info === undefined) throw new Error(`unknown variant ${variantName}; one of ${VARIANTS.map((variant) => variant.name).join(', ')}`)
const otherChildren = (await import(pathToFileURL(join(other, 'benchmarks/dist/http/child-server.js')).href)) as typeof import('./http/child-server.js')
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 5)
const duration = Number(process.env['BENCH_DURATION'] ?? 3)
const scenarios = SCENARIOS.filter((scenario) => scenarioList.split(',').includes(scenario.name))

interface Contender {
  readonly tag: string
  readonly server: Started
  readonly stop: (child: Started['child']) => Promise<void>
  credentials: ClientCredential[]
  readonly samples: Map<string, Sample[]>
}
pinLoadGenerator()
const contenders: Contender[] = [
  { tag: 'bare node:http', server: await startChild('bare'), stop: stopChild, credentials: [], samples: new Map() },
  { tag: `${variantName} (this checkout)`, server: await startChild(variantName), stop: stopChild, credentials: [], samples: new Map() },
  { tag: `${variantName} (${other})`, server: await otherChildren.startChild(variantName), stop: otherChildren.stopChild, credentials: [], samples: new Map() },
]
// The other checkout's servers are pinned from here, whether or not its harness pins.
for (const contender of contenders) pinServer(contender.server.child.pid)
console.log(pinningNote())
try {
  for (const contender of contenders.slice(1)) contender.credentials = await loginPool(info, `http://127.0.0.1:${contender.server.port}`, 50)
  for (let r = 0; r <= rounds; r++) {
    for (const scenario of scenarios) {
      for (const contender of contenders) {
        const before = await childCpu(contender.server.child)
        const sample = await measure({ port: contender.server.port, scenario, credentials: contender.credentials, connections: 50, duration: r === 0 ? 1 : duration })
        sample.cpuMicrosPerRequest = ((await childCpu(contender.server.child)) - before) / Math.max(sample.total, 1)
        // Round 0 is the warm-up.
        if (r > 0) contender.samples.set(scenario.name, [...(contender.samples.get(scenario.name) ?? []), sample])
      }
    }
  }
} finally {
  for (const contender of contenders) await contender.stop(contender.server.child)
}
for (const scenario of scenarios) {
  const bare = median(contenders[0]!.samples.get(scenario.name)!.map((sample) => sample.rps))
  console.log(`\n${scenario.name} (${rounds} interleaved rounds of ${duration} s, medians)`)
  console.log(
    formatTable(
      ['server', 'req/s', '× bare', 'server CPU µs/req', 'non-2xx'],
      contenders.map((contender) => {
        const samples = contender.samples.get(scenario.name)!
        const rps = median(samples.map((sample) => sample.rps))
        return [contender.tag, round(rps, 0), round(rps / bare, 3), round(median(samples.map((sample) => sample.cpuMicrosPerRequest ?? Number.NaN)), 1), samples.reduce((sum, sample) => sum + sample.non2xx, 0)]
      }),
    ),
  )
}
