import { createMemoryStore } from '@pikku/core'
import type { Profile } from '../http/app.js'
import { BenchClient } from '../http/client.js'
import { startPikku } from '../http/variants/pikku-app.js'
import { countingStore } from './counting-store.js'

export interface WriteCountRow {
  readonly credential: 'cookie' | 'bearer'
  readonly request: string
  readonly status: number
  readonly reads: number
  readonly writes: number
  /** Which store methods wrote, e.g. "update". */
  readonly writeCalls: string
  /** What the project promises for this request. */
  readonly expectedWrites: number
}

const MINUTE = 60_000

/**
 * Store calls per request on Pikku's HTTP runtime, through a store wrapper that counts them: a
 * read-only request must cause no write, a session change exactly one.
 */
export async function runWriteCount(): Promise<WriteCountRow[]> {
  const rows: WriteCountRow[] = []
  for (const credential of ['cookie', 'bearer'] as const) {
    let now = Date.now()
    const clock = (): number => now
    const store = countingStore<Profile>(createMemoryStore<Profile>({ clock, sweepInterval: 0 }))
    const variant = startPikku({ store, credential, clock })
    const port = await variant.listen('127.0.0.1')
    const client = new BenchClient(`http://127.0.0.1:${port}`, credential)
    const step = async (request: string, expectedWrites: number, send: () => Promise<{ status: number }>): Promise<void> => {
      const before = { ...store.counts }
      const reads = store.reads()
      const writes = store.writes()
      const { status } = await send()
      const writeCalls = (['set', 'update', 'touch', 'delete', 'deleteByUser'] as const)
        .filter((method) => store.counts[method] > before[method])
        .map((method) => (store.counts[method] - before[method] > 1 ? `${method} ×${store.counts[method] - before[method]}` : method))
        .join(' + ')
      rows.push({ credential, request, status, reads: store.reads() - reads, writes: store.writes() - writes, writeCalls: writeCalls || '—', expectedWrites })
    }
    try {
      await step('POST /login (new session)', 1, () => client.login('writer'))
      await step('GET /profile', 0, () => client.request('GET', '/profile'))
      await step('GET /profile again', 0, () => client.request('GET', '/profile'))
      await step('GET /public (credential sent)', 0, () => client.request('GET', '/public'))
      await step('PUT /preferences, same values', 0, () => client.request('PUT', '/preferences', { theme: 'light', fontSize: 14 }))
      await step('PUT /preferences, changed', 1, () => client.request('PUT', '/preferences', { theme: 'dark', fontSize: 18 }))
      now += 6 * MINUTE
      await step('GET /profile, 6 min later (renewal due)', 1, () => client.request('GET', '/profile'))
      await step('GET /profile right after the renewal', 0, () => client.request('GET', '/profile'))
    } finally {
      await variant.close()
      await store.close?.()
    }
  }
  return rows
}
