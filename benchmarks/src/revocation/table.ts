import { formatTable } from '../report/table.js'
import type { RevocationResult } from './run-revocation.js'

/** The revocation benchmark's results, one row per store. */
export function revocationTable(rows: readonly RevocationResult[]): string {
  return formatTable(
    ['store', 'revocations', '200s after logout', 'window p50 ms', 'p99 ms', 'max ms', 'A during cut (status: count)', 'A after restore', 'background req/s'],
    rows.map((row) => [
      row.backend,
      row.revocations,
      row.answeredAfterLogout,
      row.windowMs.p50,
      row.windowMs.p99,
      row.windowMs.max,
      JSON.stringify(row.duringCut),
      JSON.stringify(row.afterRestore),
      row.backgroundRps,
    ]),
  )
}
