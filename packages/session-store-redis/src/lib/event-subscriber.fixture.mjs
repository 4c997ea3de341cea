// A second server process for the cross-process revocation test: it subscribes to the store's
// events and prints each one as a JSON line. Runs the built package, as an application would.
import { createRedisStore } from '../../dist/index.js'

const store = createRedisStore({ url: process.env.FIXTURE_REDIS_URL, keyPrefix: process.env.FIXTURE_PREFIX, logger: { debug() {}, info() {}, warn() {}, error() {} } })
store.subscribe((event) => process.stdout.write(`${JSON.stringify(event)}\n`))
await store.ready()
process.stdout.write('ready\n')
process.stdin.on('end', () => {
  store.close().then(() => process.exit(0))
})
process.stdin.resume()
