/**
 * `node dist/compare-trees-in-process.js <other-checkout> [rounds]`: Pikku's handler from this
 * checkout and from another one (built, with its benchmarks compiled) in one process, each route
 * and configuration timed in turn for many rounds; the best round of each is compared. Free of
 * sockets and of most machine noise: the way to see a sub-microsecond change.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { HTTPHandler } from '@pikku/http'
import { request } from './http/handler-cost.js'
import { round } from './report/stats.js'
import { formatTable } from './report/table.js'

const [other, roundsText = '20'] = process.argv.slice(2)
if (other === undefined) {
  console.error('usage: compare-trees-in-process.js <other-checkout> [rounds]')
  process.exit(2)
}
const rounds = Number(roundsText)

interface Tree {
  readonly tag: string
  readonly app: typeof import('./http/variants/pikku-app.js')
  readonly core: typeof import('@pikku/core')
}
const here = new URL('..', import.meta.url)
const load = async (tag: string, root: URL): Promise<Tree> => ({
  tag,
  app: (await import(new URL('benchmarks/dist/http/variants/pikku-app.js', root).href)) as Tree['app'],
  // The core that tree's app resolves (its own workspace package).
  core: (await import(new URL('packages/core/dist/index.js', root).href)) as Tree['core'],
})
const trees = [await load('this checkout', new URL('..', here)), await load(other, pathToFileURL(join(other, '/')))]

interface Case {
  readonly tree: string
  readonly name: string
  readonly handle: (i: number) => Promise<unknown>
  readonly samples: number[]
  count: number
}
const cases: Case[] = []
for (const tree of trees) {
  for (const credential of ['none', 'cookie', 'bearer'] as const) {
    const store = credential === 'none' ? undefined : tree.core.createMemoryStore({ sweepInterval: 0 })
    const handler: HTTPHandler = tree.app.createPikkuHandler({ credential, ...(store === undefined ? {} : { store }) })
    const login = await handler.handle(request('POST', '/login', {}, '{"username":"ab"}'))
    const headers: Record<string, string> = {}
    if (credential === 'cookie') headers['cookie'] = login.headers.find(([name]) => name === 'set-cookie')![1].split(';', 1)[0]!
    if (credential === 'bearer') headers['authorization'] = `Bearer ${(JSON.parse(login.body) as { token: string }).token}`
    const putHeaders = { ...headers, 'content-type': 'application/json' }
    const profile = request('GET', '/profile', headers)
    const puts = [request('PUT', '/preferences', putHeaders, '{"theme":"dark","fontSize":15}'), request('PUT', '/preferences', putHeaders, '{"theme":"dark","fontSize":16}')]
    cases.push({ tree: tree.tag, name: `${credential} GET /profile`, handle: () => handler.handle(profile), samples: [], count: 0 })
    cases.push({ tree: tree.tag, name: `${credential} PUT /preferences`, handle: (i) => handler.handle(puts[i % 2]!), samples: [], count: 0 })
  }
}
const time = async (entry: Case, count: number): Promise<number> => {
  const started = performance.now()
  for (let i = 0; i < count; i++) await entry.handle(i)
  return ((performance.now() - started) * 1000) / count
}
for (const entry of cases) {
  const status = ((await entry.handle(0)) as { status: number }).status
  if (status !== 200) throw new Error(`${entry.tree}: ${entry.name} answered ${status}`)
  entry.count = Math.max(300, Math.round(150_000 / (await time(entry, 3_000))))
}
for (let r = 0; r < rounds; r++) for (const entry of cases) entry.samples.push(await time(entry, entry.count))
const best = (tree: string, name: string): number => Math.min(...cases.find((entry) => entry.tree === tree && entry.name === name)!.samples)
const names = [...new Set(cases.map((entry) => entry.name))]
console.log(`Best of ${rounds} interleaved rounds, µs per request`)
console.log(
  formatTable(
    ['configuration and route', trees[0]!.tag, trees[1]!.tag, 'change %'],
    names.map((name) => {
      const a = best(trees[0]!.tag, name)
      const b = best(trees[1]!.tag, name)
      return [name, round(a, 2), round(b, 2), round(((b - a) / a) * 100, 1)]
    }),
  ),
)
