/**
 * `node dist/profile/summarise-profile.js <file.cpuprofile> [rows]`: the functions where a
 * `node --cpu-prof` profile spent its time, by self time and by total (inclusive) time, with the
 * share per package, so that a hot path can be named by file and function.
 */
import { readFileSync } from 'node:fs'
import { formatTable } from '../report/table.js'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  readonly totalMs: number
  readonly bySelf: readonly { name: string; selfMs: number; share: number }[]
  readonly byTotal: readonly { name: string; totalMs: number; share: number }[]
  readonly byPackage: readonly { name: string; selfMs: number; share: number }[]
}

function frameName(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, '').replace(/^.*node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/^.*\/packages\//, 'packages/')
  return `${frame.functionName || '(anonymous)'} ${file ? `${file}:${frame.lineNumber + 1}` : ''}`.trim()
}

function packageOf(frame: CallFrame): string {
  const url = frame.url
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)'
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  const pikku = /\/packages\/([^/]+)\//.exec(url)
  if (pikku !== null) return `@pikku/${pikku[1]}`
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url)
  if (module !== null) return module[1]!
  if (url.includes('/benchmarks/')) return 'benchmark app'
  return url
}

export function summarise(profile: CpuProfile, rows: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  let total = 0
  for (const value of selfUs.values()) total += value
  const idle = [...selfUs.entries()].filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id)!.callFrame.functionName)).reduce((sum, [, us]) => sum + us, 0)
  const busy = total - idle

  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const packages = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!
    const name = frameName(node.callFrame)
    self.set(name, (self.get(name) ?? 0) + us)
    packages.set(packageOf(node.callFrame), (packages.get(packageOf(node.callFrame)) ?? 0) + us)
    // Inclusive: each distinct function on the stack gets the sample once (recursion counted once).
    const seen = new Set<string>()
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const frame = frameName(byId.get(current)!.callFrame)
      if (seen.has(frame)) continue
      seen.add(frame)
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + us)
    }
  }
  const top = (map: Map<string, number>): [string, number][] => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, rows)
  return {
    totalMs: Math.round(busy / 1000),
    bySelf: top(self).map(([name, us]) => ({ name, selfMs: Math.round(us / 1000), share: Math.round((us / busy) * 1000) / 10 })),
    byTotal: top(inclusive)
      .filter(([name]) => !name.startsWith('(root)'))
      .map(([name, us]) => ({ name, totalMs: Math.round(us / 1000), share: Math.round((us / busy) * 1000) / 10 })),
    byPackage: top(packages).map(([name, us]) => ({ name, selfMs: Math.round(us / 1000), share: Math.round((us / busy) * 1000) / 10 })),
  }
}

if (process.argv[1]?.endsWith('summarise-profile.js')) {
  const file = process.argv[2]
  if (file === undefined) {
    console.error('usage: summarise-profile.js <file.cpuprofile> [rows]')
    process.exit(2)
  }
  const rows = Number(process.argv[3] ?? 30)
  const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, rows)
  console.log(`${file}: ${summary.totalMs} ms of CPU outside (idle)/(program); shares are of that`)
  console.log('\nBy package (self time)')
  console.log(formatTable(['package', 'self ms', '%'], summary.byPackage.map((row) => [row.name, row.selfMs, row.share])))
  console.log('\nBy function (self time)')
  console.log(formatTable(['function', 'self ms', '%'], summary.bySelf.map((row) => [row.name, row.selfMs, row.share])))
  console.log('\nBy function (total time, callees included)')
  console.log(formatTable(['function', 'total ms', '%'], summary.byTotal.map((row) => [row.name, row.totalMs, row.share])))
}
