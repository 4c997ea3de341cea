import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { testServiceAvailable } from '@pikku/core/testing'
import WebSocket from 'ws'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))

export interface DemoProcess {
  readonly url: string
  readonly output: string[]
  stop(): Promise<void>
}

/**
 * Starts the built demo (`dist/main.js`) as its own process on a free port, with a data folder of
 * its own (removed when it stops) unless `dataDir` names one the caller owns.
 */
export async function startDemoProcess(env: Record<string, string>, options: { dataDir?: string } = {}): Promise<DemoProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pikku-demo-'))
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start within 20 s:\n${output.join('')}`)), 20_000)
    const onData = (chunk: Buffer): void => {
      output.push(chunk.toString())
      const match = /listening on (http:\/\/[^\s]+)/.exec(output.join(''))
      if (match !== null) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the demo exited with ${code} before listening:\n${output.join('')}`))
    })
  })
  return {
    url,
    output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Whether a TCP service answers (skip locally, fail under CI: core's test-service policy). */
export function serviceAvailable(name: string, host: string, port: number): Promise<boolean> {
  return testServiceAvailable({
    name,
    where: `${host}:${port}`,
    hint: 'start it (.ci/run does)',
    probe: () =>
      new Promise<void>((resolve, reject) => {
        const socket = createConnection({ host, port })
        socket.setTimeout(1_000)
        socket.once('connect', () => {
          socket.destroy()
          resolve()
        })
        socket.once('error', reject)
        socket.once('timeout', () => {
          socket.destroy()
          reject(new Error('timed out'))
        })
      }),
  })
}

/** A WebSocket client of the demo's channel: calls, and the events the server pushes. */
export interface Socket {
  readonly ws: WebSocket
  readonly events: unknown[]
  call(func: string, data?: unknown): Promise<{ result?: unknown; error?: { code: string } }>
  nextEvent(timeoutMs: number): Promise<{ event: string; data: unknown; receivedAt: number }>
}

/** Opens a socket on the demo at `base` with `cookie` (and the demo's own origin). */
export async function openSocket(base: string, cookie: string): Promise<Socket> {
  const url = `${base.replace('http', 'ws')}/ws`
  const ws = new WebSocket(url, { headers: { cookie, origin: base } })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const events: { event: string; data: unknown; receivedAt: number }[] = []
  const waiters: ((event: { event: string; data: unknown; receivedAt: number }) => void)[] = []
  const pending = new Map<number, (reply: { result?: unknown; error?: { code: string } }) => void>()
  let nextId = 1
  ws.on('message', (raw) => {
    const message = JSON.parse(raw.toString()) as { id?: number; event?: string; data?: unknown }
    if (message.event !== undefined) {
      const event = { event: message.event, data: message.data, receivedAt: Date.now() }
      const waiter = waiters.shift()
      if (waiter === undefined) events.push(event)
      else waiter(event)
      return
    }
    pending.get(message.id!)?.(message as { result?: unknown; error?: { code: string } })
    pending.delete(message.id!)
  })
  return {
    ws,
    events,
    call(func, data) {
      const id = nextId++
      return new Promise((resolve) => {
        pending.set(id, resolve)
        ws.send(JSON.stringify({ id, func, data }))
      })
    },
    nextEvent(timeoutMs) {
      const queued = events.shift()
      if (queued !== undefined) return Promise.resolve(queued)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs)
        waiters.push((event) => {
          clearTimeout(timer)
          resolve(event)
        })
      })
    },
  }
}
