import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { pinServer } from '../pin.js'
import type { ChildMessage } from './server-process.js'

export interface Started {
  readonly name: string
  readonly child: ChildProcess
  readonly port: number
}

const serverEntry = fileURLToPath(new URL('./server-process.js', import.meta.url))

/** Forks one variant's server; with `profileDir`, under `node --cpu-prof` writing `<name>.cpuprofile` there. */
export function startChild(name: string, profileDir?: string): Promise<Started> {
  const execArgv = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}.cpuprofile`]
  const child = fork(serverEntry, [name], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s`)), 20_000)
    child.once('message', (message: ChildMessage) => {
      clearTimeout(timer)
      if (message.type === 'listening') {
        try {
          pinServer(child.pid)
        } catch (error) {
          child.kill('SIGKILL')
          reject(error as Error)
          return
        }
        resolve({ name, child, port: message.port })
      }
      else if (message.type === 'failed') reject(new Error(`${name} failed to start: ${message.error}`))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code} before listening`))
    })
  })
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      resolve()
    }, 10_000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.send({ type: 'close' })
  })
}


/** The CPU time (µs) the child has used so far: server CPU per request is robust to a busy machine. */
export function childCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not report its CPU time')), 5_000)
    const onMessage = (message: ChildMessage): void => {
      if (message.type !== 'cpu') return
      clearTimeout(timer)
      child.off('message', onMessage)
      resolve(message.micros)
    }
    child.on('message', onMessage)
    child.send({ type: 'cpu' })
  })
}
