// Another server process for the cross-process tests: it opens the store on FIXTURE_DB (with
// FIXTURE_DRIVER), subscribes, and prints each event as a JSON line. Runs the built package, as an
// application would. Stdin closing stops it.
import { createSqliteStore } from '../../dist/index.js'

const store = createSqliteStore({
  path: process.env.FIXTURE_DB,
  driver: process.env.FIXTURE_DRIVER || undefined,
  sweepInterval: 0,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
})
store.subscribe((event) => process.stdout.write(`${JSON.stringify(event)}\n`))
process.stdout.write('ready\n')
process.stdin.on('end', () => {
  store.close().then(() => process.exit(0))
})
process.stdin.resume()
