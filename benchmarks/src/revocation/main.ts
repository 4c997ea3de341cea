/**
 * `node dist/revocation/main.js [redis|postgres ...]`: the revocation-latency benchmark alone
 * (also a section of `pnpm bench`). BENCH_REVOCATIONS (default 100), BENCH_CUT_REVOCATIONS
 * (default 20), BENCH_REVOCATION_LOAD (autocannon connections per server, default 10).
 */
import { type RevocationBackend, runRevocation } from './run-revocation.js'
import { revocationTable } from './table.js'

const backends = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['redis', 'postgres']) as RevocationBackend[]
for (const backend of backends) if (backend !== 'redis' && backend !== 'postgres') throw new Error(`unknown store ${String(backend)}; redis or postgres`)
const options = {
  revocations: Number(process.env['BENCH_REVOCATIONS'] ?? 100),
  cutRevocations: Number(process.env['BENCH_CUT_REVOCATIONS'] ?? 20),
  loadConnections: Number(process.env['BENCH_REVOCATION_LOAD'] ?? 10),
}
const results = []
for (const backend of backends) results.push(await runRevocation(backend, options, console.log))
console.log(revocationTable(results))
