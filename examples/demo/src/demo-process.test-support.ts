import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { testServiceAvailable } from '@pikku/core/testing'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))

export interface DemoProcess {
  readonly url: string
  readonly output: string[]
  stop(): Promise<void>
}

/** Starts the built demo (`dist/main.js`) as its own process on a free port. */
export async function startDemoProcess(env: Record<string, string>): Promise<DemoProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pikku-demo-'))
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
      rmSync(dataDir, { recursive: true, force: true })
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
