import { execFileSync } from 'node:child_process'
import { cpus as listCpus } from 'node:os'

/**
 * CPU pinning. On a small machine the load generator and the server under test otherwise compete
 * for the same cores: the scheduler moves them around, and a sample where both share a core costs
 * the server cache misses and context switches that have nothing to do with the variant. With
 * pinning the load generator (this process) keeps CPU 0 and every server (all its threads, GC
 * helpers included) keeps the last CPU, the same for every variant. `BENCH_PIN=0` turns it off;
 * it is off on one CPU and where `taskset` (util-linux) is missing.
 */
// All online CPUs, whatever this process's own affinity (availableParallelism() follows it).
const cpus = listCpus().length
let pinned = false

function taskset(pid: number, cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Pins this process (the load generator) to CPU 0 and turns pinning on for servers started later. */
export function pinLoadGenerator(): void {
  pinned = process.env['BENCH_PIN'] !== '0' && cpus >= 2 && taskset(process.pid, 0)
}

/** Pins a server process to the last CPU (no-op when pinning is off). */
export function pinServer(pid: number | undefined): void {
  if (pinned && pid !== undefined && !taskset(pid, cpus - 1)) {
    throw new Error(`could not pin server process ${pid} to CPU ${cpus - 1}; run with BENCH_PIN=0`)
  }
}

/** For the report. */
export function pinningNote(): string {
  return pinned ? `load generator pinned to CPU 0, each server to CPU ${cpus - 1}` : 'no CPU pinning'
}
