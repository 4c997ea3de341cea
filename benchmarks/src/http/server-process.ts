/**
 * Child-process entry: `node server-process.js <variant>`. Starts one variant on 127.0.0.1 at a
 * random port and tells the parent the port over IPC; closes when the parent says so or goes away.
 */
import type { RunningVariant } from './variant.js'

export type ChildMessage =
  | { type: 'listening'; port: number }
  | { type: 'failed'; error: string }
  /** CPU time this process has used so far (user + system), microseconds. */
  | { type: 'cpu'; micros: number }
  /** The full collection asked for with `gc` is done (or the process has no `--expose-gc`). */
  | { type: 'collected' }
export type ParentMessage = { type: 'close' } | { type: 'cpu' } | { type: 'gc' }

const name = process.argv[2]
if (name === undefined || !/^[a-z0-9-]+$/.test(name) || process.send === undefined) {
  console.error('usage: forked by the benchmark runner with a variant name')
  process.exit(2)
}

const send = (message: ChildMessage): void => {
  process.send?.(message)
}

let variant: RunningVariant | undefined
const shutdown = async (): Promise<void> => {
  try {
    await variant?.close()
  } finally {
    // A normal exit, so that --cpu-prof writes its profile.
    process.exit(0)
  }
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'close') void shutdown()
  if (message.type === 'gc') {
    // count-instructions: a full collection before the counted load, with --expose-gc.
    ;(globalThis as { gc?: () => void }).gc?.()
    send({ type: 'collected' })
  }
  if (message.type === 'cpu') {
    const usage = process.cpuUsage()
    send({ type: 'cpu', micros: usage.user + usage.system })
  }
})
process.on('disconnect', () => void shutdown())

try {
  const module = (await import(`./variants/${name}.js`)) as { start: () => RunningVariant }
  variant = module.start()
  const port = await variant.listen('127.0.0.1')
  send({ type: 'listening', port })
} catch (error) {
  send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exit(1)
}
