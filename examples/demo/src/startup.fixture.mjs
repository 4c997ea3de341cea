// One demo server's start-up, up to the point where it would build the app and listen: the real
// code of dist/main.js (settings, signing key, store, login counters, preferences), without the
// HTTP, WebSocket and MCP layers, so that a test can start hundreds of them. It loads, says
// 'loaded', waits for 'go' on stdin (so that the processes of a round start at the same instant),
// starts, writes one preference of its own, and prints 'ready <sha-256 of its key>' or 'failed <why>'.
import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import { prepareDemo, readDemoSettings } from '../dist/startup.js'

const silent = { debug() {}, info() {}, warn() {}, error() {} }
process.stdout.write('loaded\n')
const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  if (line !== 'go') continue
  try {
    const { secrets, data } = await prepareDemo(readDemoSettings(process.env, []), silent)
    await data.preferences.set('user-alice', { [`process${process.pid}`]: 'started' })
    await data.close()
    process.stdout.write(`ready ${createHash('sha256').update(secrets[0]).digest('hex')}\n`)
  } catch (error) {
    process.stdout.write(`failed ${error instanceof Error ? error.message : String(error)}\n`)
  }
  break
}
lines.close()
