/**
 * `node dist/profile/count-instructions.js <variant> <load> [low] [high]`: user-space instructions
 * a variant's server executes per request or per WebSocket message, counted by
 * `valgrind --tool=callgrind`. Throughput on a shared VM moves by tens of percent from one sample
 * to the next; an instruction count does not depend on how fast the machine runs at the moment.
 *
 *   node dist/profile/count-instructions.js pikku-cookie-memory "GET /profile"
 *   node dist/profile/count-instructions.js ws-session ws:100
 *
 * The server runs twice under callgrind, serving `low` and then `high` requests (default 5,000
 * and 25,000; for `ws:<connections>`, 20,000 and 100,000 messages) from 10 connections or the
 * given number of sockets; the difference divided by `high - low` leaves out start-up and warm-up.
 * The kernel's share (sockets, system calls) is not counted. The window must be long: V8's
 * optimising compiles and its major collections cost millions of instructions each, and with a
 * window of a few thousand requests whether one of them lands inside it swings the count by tens
 * of percent. With the defaults two counts of the same server agree within about 0.5 %. The
 * batching of requests per event-loop turn depends on how fast the client runs, so compare
 * variants counted under the same conditions (one after the other, or side by side).
 *
 * Right before the load the server makes a full garbage collection (`--expose-gc`): a variant that
 * loads more code at start-up (node-redis, pg) otherwise has V8 finish its first major collection,
 * scheduled by a timer, somewhere in the first thousands of requests, inside one count's window and
 * not the other's (seen: 12,000 instructions per request of incremental marking in a count of the
 * Redis variant, none in the memory store's).
 *
 * With `CALLGRIND_KEEP=<dir>` both callgrind files are kept there, for `callgrind_annotate`: V8's
 * generated code shows as `???`, but its runtime, the garbage collector, libuv and the kernel
 * interface are named. `COUNT_NODE_FLAGS` adds flags to the counted server's `node`
 * (space-separated), for example `--min-semi-space-size=1 --max-semi-space-size=1` to fix V8's
 * young generation: V8 resizes it from what it measures while running, which changes how many
 * scavenges a window holds.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import WebSocket from 'ws'
import { BenchClient } from '../http/client.js'
import { loginPool } from '../http/correctness.js'
import { SCENARIOS, type Scenario } from '../http/scenarios.js'
import type { ChildMessage } from '../http/server-process.js'
import { VARIANTS, type VariantInfo } from '../http/variant.js'

const [variantName, load, lowArg, highArg] = process.argv.slice(2)
if (variantName === undefined || load === undefined) {
  console.error('usage: count-instructions.js <variant> <"GET /profile" | "PUT /preferences" | "GET /public" | ws:<connections>> [low] [high]')
  process.exit(2)
}
const wsConnections = load.startsWith('ws:') ? Number(load.slice(3)) : undefined
if (wsConnections !== undefined && !(Number.isInteger(wsConnections) && wsConnections > 0)) throw new Error(`ws:<connections> needs a positive whole number; got ${load}`)
const scenario = wsConnections === undefined ? SCENARIOS.find((candidate) => candidate.name === load) : undefined
if (wsConnections === undefined && scenario === undefined) throw new Error(`unknown load ${load}; one of ${SCENARIOS.map((candidate) => candidate.name).join(', ')} or ws:<connections>`)
const info = VARIANTS.find((variant) => variant.name === variantName)
if (wsConnections === undefined && info === undefined) throw new Error(`unknown HTTP variant ${variantName}; one of ${VARIANTS.map((variant) => variant.name).join(', ')}`)
const low = Number(lowArg ?? (wsConnections === undefined ? 5000 : 20000))
const high = Number(highArg ?? (wsConnections === undefined ? 25000 : 100000))
if (!(Number.isInteger(low) && Number.isInteger(high) && low > 0 && high > low)) throw new Error(`low and high must be whole numbers with 0 < low < high; got ${low} and ${high}`)

const nodeFlags = (process.env.COUNT_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '')
const serverEntry = fileURLToPath(new URL('../http/server-process.js', import.meta.url))
const workDir = mkdtempSync(join(tmpdir(), 'pikku-instructions-'))

/** Starts the server under callgrind; resolves with its port and a function that stops it and returns the count. */
async function startCounted(tag: string): Promise<{ port: number; collect: () => Promise<void>; stop: () => Promise<number> }> {
  const outFile = join(workDir, `callgrind.${tag}`)
  // --single-threaded: V8 compiles and collects garbage on the main thread, so one count covers it.
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${outFile}`, process.execPath, '--single-threaded', '--expose-gc', ...nodeFlags, serverEntry, variantName!], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    // The stores' connect and command deadlines (5 s) are too short for a server under valgrind.
    env: { ...process.env, BENCH_STORE_TIMEOUT_MS: '120000' },
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`could not run valgrind (apt-get install valgrind): ${error.message}`)))
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'listening') resolve(message.port)
      else if (message.type === 'failed') reject(new Error(`${variantName} failed to start: ${message.error}`))
    })
    void exited.then((code) => reject(new Error(`the server exited with ${code} before listening`)))
  })
  return {
    port,
    collect: () =>
      new Promise<void>((resolve) => {
        const onMessage = (message: ChildMessage): void => {
          if (message.type !== 'collected') return
          child.off('message', onMessage)
          resolve()
        }
        child.on('message', onMessage)
        child.send({ type: 'gc' })
      }),
    async stop() {
      child.send({ type: 'close' })
      await exited
      const summary = /^(?:summary|totals): (\d+)/m.exec(readFileSync(outFile, 'utf8'))
      if (summary === null) throw new Error(`no instruction total in ${outFile}`)
      return Number(summary[1])
    },
  }
}

async function httpLoad(port: number, variant: VariantInfo, load: Scenario, requests: number, collect: () => Promise<void>): Promise<void> {
  const credentials = await loginPool(variant, `http://127.0.0.1:${port}`, 10)
  await collect()
  const baseHeaders: Record<string, string> = load.bodies === undefined ? {} : { 'content-type': 'application/json' }
  const requestsWith = (headers: Record<string, string>): autocannon.Request[] =>
    (load.bodies ?? [undefined]).map((body) => ({ method: load.method, path: load.path, headers, ...(body === undefined ? {} : { body }) }))
  let next = 0
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 10,
    amount: requests,
    // Under valgrind on a busy machine an answer can take longer than autocannon's default 10 s.
    timeout: 300,
    requests: requestsWith(baseHeaders),
    setupClient: (client) => {
      if (!load.authenticated || credentials.length === 0) return
      const credential = credentials[next++ % credentials.length]!
      client.setRequests(requestsWith({ ...baseHeaders, [credential.header]: credential.value }))
    },
  })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors: not a valid count`)
}

async function wsLoad(port: number, connections: number, messages: number): Promise<void> {
  const cookies: string[] = []
  for (let i = 0; i < 10; i++) {
    const client = new BenchClient(`http://127.0.0.1:${port}`, 'cookie')
    const login = await client.login(`ws-user-${i}`)
    if (login.status !== 200 || client.credential === undefined) throw new Error(`login failed with ${login.status}`)
    cookies.push(client.credential.value)
  }
  const sockets = await Promise.all(
    Array.from(
      { length: connections },
      (_, i) =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['pikku.v1'], { headers: { cookie: cookies[i % cookies.length]! } })
          socket.once('open', () => resolve(socket))
          socket.once('error', reject)
        }),
    ),
  )
  const perSocket = Math.ceil(messages / connections)
  let bad = 0
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          let left = perSocket
          let id = 0
          const send = (): void => socket.send(`{"id":${++id},"func":"getProfile"}`)
          socket.on('message', (data: WebSocket.RawData) => {
            const reply = JSON.parse(data.toString()) as { result?: { userId?: unknown }; event?: unknown }
            if (reply.event !== undefined) return
            if (typeof reply.result?.userId !== 'string') bad++
            if (--left === 0) resolve()
            else send()
          })
          send()
        }),
    ),
  )
  for (const socket of sockets) socket.close()
  if (bad > 0) throw new Error(`${bad} replies without the session's userId: not a valid count`)
}

async function count(amount: number): Promise<number> {
  const server = await startCounted(String(amount))
  try {
    if (wsConnections === undefined) await httpLoad(server.port, info!, scenario!, amount, server.collect)
    else await wsLoad(server.port, wsConnections, amount)
  } catch (error) {
    await server.stop().catch(() => undefined)
    throw error
  }
  return server.stop()
}

try {
  const lowCount = await count(low)
  const highCount = await count(high)
  const per = Math.round((highCount - lowCount) / (wsConnections === undefined ? high - low : Math.ceil(high / wsConnections) * wsConnections - Math.ceil(low / wsConnections) * wsConnections))
  console.log(`${variantName} ${load}: ${per.toLocaleString('en-US')} instructions per ${wsConnections === undefined ? 'request' : 'message'} (callgrind, user space, ${low} and ${high})`)
} finally {
  // CALLGRIND_KEEP=<dir>: keep both callgrind files there (for callgrind_annotate) instead of deleting them.
  const keep = process.env['CALLGRIND_KEEP']
  if (keep !== undefined) {
    mkdirSync(keep, { recursive: true })
    for (const amount of [low, high]) renameSync(join(workDir, `callgrind.${amount}`), join(keep, `callgrind.${variantName}.${load.replace(/\W+/g, '-')}.${amount}`))
  }
  rmSync(workDir, { recursive: true, force: true })
}
