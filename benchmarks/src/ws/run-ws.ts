import WebSocket from 'ws'
import { BenchClient } from '../http/client.js'
import { startChild, stopChild, type Started } from '../http/child-server.js'
import { median, round } from '../report/stats.js'

export interface WSOptions {
  readonly rounds: number
  readonly duration: number
  readonly connectionCounts: readonly number[]
  readonly profile: readonly string[]
  readonly profileDir: string
}

export interface WSSample {
  readonly messagesPerSecond: number
  readonly errors: number
}

export interface WSResult {
  readonly variant: string
  readonly label: string
  readonly connections: number
  readonly samples: readonly WSSample[]
  readonly messagesPerSecond: number
  /** With the session middleware ÷ without, for the same connection count (ratio of the medians). */
  readonly ratioToNoSession: number
  /** The median over rounds of (this variant ÷ no session in the same round). */
  readonly pairedRatioToNoSession: number
}

const VARIANTS = [
  { name: 'ws-no-session', label: 'channel, no session middleware (in-memory session per connection)' },
  { name: 'ws-session', label: 'channel + session middleware (cookie at upgrade, memory store)' },
] as const

interface OpenSocket {
  readonly socket: WebSocket
}

async function openSockets(port: number, cookies: readonly string[], count: number): Promise<OpenSocket[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['pikku.v1'], { headers: { cookie: cookies[i % cookies.length]! } })
      return new Promise<OpenSocket>((resolve, reject) => {
        socket.once('open', () => {
          // Later failures are counted by the guard in drive(); an unhandled 'error' would crash the run.
          socket.on('error', () => undefined)
          resolve({ socket })
        })
        socket.once('error', reject)
        socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused with ${response.statusCode}`)))
      })
    }),
  )
}

/**
 * Every connection sends `getProfile` (a function that requires a session), waits for the reply,
 * and sends the next, for `seconds`. A reply without the session's userId counts as an error.
 */
function drive(sockets: readonly OpenSocket[], seconds: number): Promise<WSSample> {
  let replies = 0
  let errors = 0
  let running = true
  const started = performance.now()
  return new Promise((resolve) => {
    let idle = 0
    let settled = false
    const finish = (): void => {
      if (settled) return
      settled = true
      clearTimeout(guard)
      resolve({ messagesPerSecond: replies / ((performance.now() - started) / 1000), errors })
    }
    // A connection that stops answering must not hang the run: give up a few seconds after the end.
    const guard = setTimeout(() => {
      errors += sockets.length - idle
      finish()
    }, (seconds + 5) * 1000)
    for (const { socket } of sockets) {
      let id = 0
      const send = (): void => {
        socket.send(`{"id":${++id},"func":"getProfile"}`)
      }
      const onMessage = (data: WebSocket.RawData): void => {
        const reply = JSON.parse(data.toString()) as { id?: unknown; result?: { userId?: string }; error?: unknown; event?: unknown }
        // Server events (a session ended elsewhere) are not replies.
        if (reply.event !== undefined) return
        if (typeof reply.result?.userId === 'string') replies++
        else errors++
        if (running) return send()
        socket.off('message', onMessage)
        if (++idle === sockets.length) finish()
      }
      socket.on('message', onMessage)
      send()
    }
    setTimeout(() => {
      running = false
    }, seconds * 1000)
  })
}

/** Messages per second over 1 and over 100 connections, with and without the session middleware, interleaved. */
export async function runWS(options: WSOptions, log: (line: string) => void): Promise<WSResult[]> {
  const servers: Started[] = []
  const samples = new Map<string, WSSample[]>()
  try {
    const open = new Map<string, OpenSocket[][]>()
    const maxConnections = Math.max(...options.connectionCounts)
    for (const variant of VARIANTS) {
      const server = await startChild(variant.name, options.profile.includes(variant.name) ? options.profileDir : undefined)
      servers.push(server)
      const cookies: string[] = []
      for (let i = 0; i < maxConnections; i++) {
        const client = new BenchClient(`http://127.0.0.1:${server.port}`, 'cookie')
        const login = await client.login(`ws-user-${i}`)
        if (login.status !== 200 || client.credential === undefined) throw new Error(`${variant.name}: login failed with ${login.status}`)
        cookies.push(client.credential.value)
      }
      open.set(variant.name, await Promise.all(options.connectionCounts.map((count) => openSockets(server.port, cookies, count))))
    }
    const key = (variant: string, connections: number): string => `${variant}/${connections}`
    // Warm-up, then interleaved rounds; the order reverses every other round, so neither variant
    // always runs right after the other.
    for (const [index] of options.connectionCounts.entries()) for (const variant of VARIANTS) await drive(open.get(variant.name)![index]!, 1)
    for (let r = 1; r <= options.rounds; r++) {
      const order = r % 2 === 1 ? VARIANTS : [...VARIANTS].reverse()
      for (const [index, connections] of options.connectionCounts.entries()) {
        for (const variant of order) {
          const sample = await drive(open.get(variant.name)![index]!, options.duration)
          const list = samples.get(key(variant.name, connections)) ?? []
          list.push(sample)
          samples.set(key(variant.name, connections), list)
        }
        log(`  round ${r}/${options.rounds}, ${connections} connection(s): ${VARIANTS.map((variant) => `${variant.name} ${Math.round(samples.get(key(variant.name, connections))!.at(-1)!.messagesPerSecond)}`).join(', ')}`)
      }
    }
    for (const lists of open.values()) for (const list of lists) for (const { socket } of list) socket.close()
    const results: WSResult[] = []
    for (const connections of options.connectionCounts) {
      const baseline = samples.get(key('ws-no-session', connections))!
      const without = median(baseline.map((sample) => sample.messagesPerSecond))
      for (const variant of VARIANTS) {
        const list = samples.get(key(variant.name, connections))!
        const rate = median(list.map((sample) => sample.messagesPerSecond))
        // Round i against round i: neighbouring samples share most of the machine's background load.
        const paired = median(list.map((sample, i) => sample.messagesPerSecond / baseline[i]!.messagesPerSecond))
        results.push({
          variant: variant.name,
          label: variant.label,
          connections,
          samples: list,
          messagesPerSecond: round(rate, 0),
          ratioToNoSession: round(rate / without, 3),
          pairedRatioToNoSession: round(paired, 3),
        })
      }
    }
    return results
  } finally {
    await Promise.all(servers.map((server) => stopChild(server.child)))
  }
}
