import { readFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'

export interface MachineInfo {
  readonly nproc: number
  readonly cpuModel: string
  readonly node: string
  readonly platform: string
  readonly memoryGiB: number
  /** 1-minute load average when the run started: above ~0.5 someone else was using the CPU. */
  readonly loadAverageAtStart: number
}

export function describeMachine(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown'
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('model name'))
    if (line !== undefined) cpuModel = line.slice(line.indexOf(':') + 1).trim()
  } catch {
    // Not Linux: os.cpus() already gave the model.
  }
  return {
    // Online CPUs: availableParallelism() would follow this process's pinning.
    nproc: cpus().length,
    cpuModel,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: Math.round(loadavg()[0]! * 100) / 100,
  }
}
