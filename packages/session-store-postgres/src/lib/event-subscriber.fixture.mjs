// A second server process for the cross-process revocation test: it subscribes to the store's
// events and prints each one as a JSON line. Runs the built package, as an application would.
import { createPostgresStore } from '../../dist/index.js'

const store = createPostgresStore({
  connectionString: process.env.FIXTURE_DATABASE_URL,
  tableName: process.env.FIXTURE_TABLE,
  sweepInterval: 0,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
})
store.subscribe((event) => process.stdout.write(`${JSON.stringify(event)}\n`))
await store.ready()
process.stdout.write('ready\n')
process.stdin.on('end', () => {
  store.close().then(() => process.exit(0))
})
process.stdin.resume()
