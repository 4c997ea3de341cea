import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FootprintResult } from './memory-footprint.js'

const entry = fileURLToPath(new URL('./memory-footprint.js', import.meta.url))

export interface MemoryResult {
  readonly footprint: FootprintResult | { readonly sessions: number; readonly failed: string }
  /** The V8 heap limit the child ran under (`--max-old-space-size`), MiB. */
  readonly maxOldSpaceMiB: number
}

/** Runs the footprint child with a heap limit: an out-of-memory crash is a failed target. */
export function runMemory(sessions: number, maxOldSpaceMiB: number): Promise<MemoryResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--expose-gc', `--max-old-space-size=${maxOldSpaceMiB}`, entry, String(sessions)],
      { maxBuffer: 1 << 20, timeout: 300_000 },
      (error, stdout, stderr) => {
        if (error !== null) {
          const reason = /heap out of memory/i.test(stderr) ? 'JavaScript heap out of memory' : (stderr.trim().split('\n').at(-1) ?? error.message)
          resolve({ footprint: { sessions, failed: reason }, maxOldSpaceMiB })
          return
        }
        resolve({ footprint: JSON.parse(stdout.trim().split('\n').at(-1)!) as FootprintResult, maxOldSpaceMiB })
      },
    )
  })
}
