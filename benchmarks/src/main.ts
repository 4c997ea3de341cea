/**
 * `pnpm bench`: every benchmark in one run, a table per section on stdout, raw results as JSON in
 * benchmarks/results/. Environment variables narrow a run while investigating:
 *
 *   BENCH_SECTIONS=http,handler,ws,stores,writes,memory,revocation   sections to run (default: all)
 *   BENCH_ROUNDS=4  BENCH_WS_ROUNDS=8  BENCH_DURATION=3  BENCH_WARMUP=1  BENCH_CONNECTIONS=50
 *   BENCH_USERS=1                                    logged-in users the connections share, round-robin (default: one per connection)
 *   BENCH_ONLY=pikku-cookie-memory,fastify-session   HTTP variants (bare is always included)
 *   BENCH_SCENARIOS="GET /profile"                   HTTP scenarios
 *   BENCH_PROFILE=pikku-cookie-memory                run that server under node --cpu-prof
 *   BENCH_PIN=0                                      no CPU pinning (default: load generator on CPU 0, servers on the last CPU)
 *   BENCH_STORE_SECONDS=1  BENCH_STORE_RECORDS=10000  BENCH_STORE_CONCURRENCY=32
 *   BENCH_REVOCATIONS=100  BENCH_CUT_REVOCATIONS=20  BENCH_REVOCATION_LOAD=10   (section revocation)
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runHandlerCost, type HandlerCostRow } from './http/handler-cost.js'
import { runHTTP, type HTTPResults } from './http/run-http.js'
import { pinLoadGenerator, pinningNote } from './pin.js'
import { describeMachine } from './report/machine.js'
import { runWS, type WSResult } from './ws/run-ws.js'
import { formatTable } from './report/table.js'
import { runMemory, type MemoryResult } from './stores/run-memory.js'
import { runStoreBench, type StoreBenchResult } from './stores/store-bench.js'
import { runWriteCount, type WriteCountRow } from './stores/write-count.js'
import { cacheTargets } from './report/cache-targets.js'
import { revocationTable } from './revocation/table.js'
import { runRevocation, type RevocationResult } from './revocation/run-revocation.js'

const list = (name: string): string[] =>
  (process.env[name] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
const number = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number; got ${process.env[name]}`)
  return value
}

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url))
const sections = list('BENCH_SECTIONS')
const wants = (section: string): boolean => sections.length === 0 || sections.includes(section)
const log = (line: string): void => console.log(line)

const machine = describeMachine()
pinLoadGenerator()
const startedAt = new Date()
log(`Pikku Sessions benchmarks, ${startedAt.toISOString()}`)
log(`machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverageAtStart}; ${pinningNote()}`)

process.on('exit', (code) => {
  if (code !== 0) console.error(`benchmark process exiting with code ${code}`)
})

const output: {
  startedAt: string
  finishedAt?: string
  machine: typeof machine & { pinning: string }
  http?: HTTPResults
  handler?: HandlerCostRow[]
  ws?: WSResult[]
  writes?: WriteCountRow[]
  stores?: StoreBenchResult[]
  memory?: MemoryResult[]
  revocation?: RevocationResult[]
  failures: { section: string; error: string }[]
} = { startedAt: startedAt.toISOString(), machine: { ...machine, pinning: pinningNote() }, failures: [] }

mkdirSync(resultsDir, { recursive: true })
const file = `${resultsDir}${startedAt.toISOString().replace(/[:.]/g, '-')}.json`
/**
 * Written after every section, so a failure late in the run keeps what was measured before it.
 * Only a full run (no BENCH_SECTIONS) becomes latest.json, which BENCHMARKS.md summarises.
 */
const save = (): void => {
  writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`)
  if (sections.length === 0) writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify(output, null, 2)}\n`)
}
const section = async (name: string, run: () => Promise<void>): Promise<void> => {
  if (!wants(name)) return
  try {
    await run()
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error)
    log(`SECTION ${name} FAILED: ${text}`)
    output.failures.push({ section: name, error: text })
  }
  save()
}

await section('http', async () => {
  const profileDir = fileURLToPath(new URL('../profiles/', import.meta.url))
  const options = {
    rounds: number('BENCH_ROUNDS', 4),
    duration: number('BENCH_DURATION', 3),
    warmup: number('BENCH_WARMUP', 1),
    connections: number('BENCH_CONNECTIONS', 50),
    users: Math.round(number('BENCH_USERS', number('BENCH_CONNECTIONS', 50))),
    only: list('BENCH_ONLY'),
    scenarios: list('BENCH_SCENARIOS'),
    profile: list('BENCH_PROFILE'),
    profileDir,
  }
  if (options.profile.length > 0) mkdirSync(profileDir, { recursive: true })
  log(`\nHTTP: ${options.connections} connections as ${options.users} user(s), ${options.rounds} interleaved rounds of ${options.duration} s per variant and route (medians; "paired": median of each round's ratio to bare in that round; "best": the best round)`)
  const http = await runHTTP(options, log)
  output.http = http
  const scenarioNames = Object.keys(http.variants[0]?.scenarios ?? {})
  for (const scenario of scenarioNames) {
    log(`\n${scenario}`)
    log(
      formatTable(
        ['variant', 'req/s', 'p99 ms', '× bare', '× bare, paired', 'best req/s', '× bare, best', 'server CPU µs/req', '× bare by CPU'],
        http.variants.map((variant) => {
          const result = variant.scenarios[scenario]!
          return variant.status === 'broken' && !Number.isFinite(result.rps)
            ? [`${variant.label} (BROKEN)`, '—', '—', '—', '—', '—', '—', '—', '—']
            : [
                variant.label,
                result.rps,
                result.p99,
                result.ratioToBare,
                result.pairedRatioToBare,
                result.bestRps,
                result.bestRatioToBare,
                result.cpuMicros,
                result.cpuRatioToBare,
              ]
        }),
      ),
    )
  }
  const broken = http.variants.filter((variant) => variant.status === 'broken')
  for (const variant of broken) log(`BROKEN ${variant.name}: ${variant.problems.join('; ')}`)
})

await section('ws', async () => {
  const options = {
    // More rounds than HTTP: one message is a few microseconds, so the ratio needs more samples.
    rounds: number('BENCH_WS_ROUNDS', 8),
    duration: number('BENCH_DURATION', 3),
    connectionCounts: [1, 100],
    profile: list('BENCH_PROFILE'),
    profileDir: fileURLToPath(new URL('../profiles/', import.meta.url)),
  }
  if (options.profile.length > 0) mkdirSync(options.profileDir, { recursive: true })
  log(`\nWebSocket: getProfile (requires a session), one message in flight per connection, ${options.rounds} interleaved rounds of ${options.duration} s`)
  const ws = await runWS(options, log)
  output.ws = ws
  log(
    formatTable(
      ['variant', 'connections', 'messages/s', '× no session', '× no session, paired'],
      ws.map((result) => [result.label, result.connections, result.messagesPerSecond, result.ratioToNoSession, result.pairedRatioToNoSession]),
    ),
  )
  for (const result of ws) {
    const errors = result.samples.reduce((sum, sample) => sum + sample.errors, 0)
    if (errors > 0) log(`BROKEN ${result.variant} over ${result.connections}: ${errors} replies without the session`)
  }
})

await section('handler', async () => {
  log('\nPikku handler time per request, in-process (no sockets; one request at a time; best of interleaved rounds)')
  const rows = await runHandlerCost(number('BENCH_HANDLER_ROUNDS', 9), number('BENCH_HANDLER_SLICE_MS', 200))
  output.handler = rows
  log(formatTable(['configuration', 'route', 'µs/request', 'µs added by sessions'], rows.map((row) => [row.config, row.route, row.micros, row.addedMicros])))
})

await section('writes', async () => {
  log('\nStore calls per request (Pikku, memory store behind a counting wrapper)')
  const rows = await runWriteCount()
  output.writes = rows
  log(
    formatTable(
      ['credential', 'request', 'status', 'store reads', 'store writes', 'write calls', 'expected writes', 'ok'],
      rows.map((row) => [row.credential, row.request, String(row.status), row.reads, row.writes, row.writeCalls, row.expectedWrites, row.writes === row.expectedWrites ? 'yes' : 'NO']),
    ),
  )
})

await section('stores', async () => {
  const storeOptions = { seconds: number('BENCH_STORE_SECONDS', 1), records: number('BENCH_STORE_RECORDS', 10_000), concurrency: number('BENCH_STORE_CONCURRENCY', 32) }
  log(`\nStore operations per second (${storeOptions.records.toLocaleString('en-US')} sessions stored; 1 caller / ${storeOptions.concurrency} concurrent callers)`)
  const stores = await runStoreBench(storeOptions, log)
  output.stores = stores
  log(
    formatTable(
      ['store', 'get 1', `get ${storeOptions.concurrency}`, 'set 1', `set ${storeOptions.concurrency}`, 'update 1', `update ${storeOptions.concurrency}`],
      stores.map((result) =>
        result.unavailable !== undefined
          ? [`${result.store} (skipped: ${result.unavailable.slice(0, 60)})`, '—', '—', '—', '—', '—', '—']
          : [result.store, result.get!.sequential, result.get!.concurrent, result.set!.sequential, result.set!.concurrent, result.update!.sequential, result.update!.concurrent],
      ),
    ),
  )
})

await section('memory', async () => {
  log('\nMemory store heap (child process, --expose-gc, heapUsed after gc)')
  const memory = [await runMemory(100_000, 4096), await runMemory(1_000_000, 1024)]
  output.memory = memory
  log(
    formatTable(
      ['sessions', 'heap limit MiB', 'heap growth MiB', 'bytes/session', 'heap used MiB', 'fill s'],
      memory.map(({ footprint, maxOldSpaceMiB }) =>
        'failed' in footprint
          ? [footprint.sessions.toLocaleString('en-US'), maxOldSpaceMiB, `FAILED: ${footprint.failed}`, '—', '—', '—']
          : [footprint.sessions.toLocaleString('en-US'), maxOldSpaceMiB, footprint.heapGrowthMiB, footprint.bytesPerSession, footprint.heapAfterMiB, footprint.fillSeconds],
      ),
    ),
  )
})

await section('revocation', async () => {
  const options = {
    revocations: number('BENCH_REVOCATIONS', 100),
    cutRevocations: number('BENCH_CUT_REVOCATIONS', 20),
    loadConnections: number('BENCH_REVOCATION_LOAD', 10),
  }
  log(`\nRevocation latency: two servers with the read cache on one store, under load; ${options.revocations} logouts on B, how long A still answers 200; then A cut off from the store (${options.cutRevocations} logouts meanwhile)`)
  output.revocation = []
  for (const backend of ['redis', 'postgres'] as const) {
    try {
      output.revocation.push(await runRevocation(backend, options, log))
    } catch (error) {
      log(`  ${backend}: FAILED ${error instanceof Error ? error.message : String(error)}`)
      output.failures.push({ section: `revocation ${backend}`, error: String(error) })
    }
  }
  log(revocationTable(output.revocation))
})

if (output.http !== undefined || output.revocation !== undefined) {
  log('\nTargets of issue 19 (read cache, writes in one round trip), from this run\'s medians')
  log(formatTable(['target', 'measured', 'goal', 'met'], cacheTargets(output.http, output.revocation ?? []).map((row) => [row.target, row.measured, row.goal, row.met])))
}

output.finishedAt = new Date().toISOString()
save()
log(`\nraw results: ${file}`)
if (output.failures.length > 0) process.exitCode = 1
