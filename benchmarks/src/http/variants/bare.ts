import { createServer } from 'node:http'
import { FIXED_PROFILE, isLoginBody, isPreferences, PUBLIC_BODY } from '../app.js'
import { closeServer, listenOn, readJSON, sendJSON } from '../node-body.js'
import type { RunningVariant } from '../variant.js'

/** The ceiling: the same routes and JSON work on node:http, with no sessions at all. */
export function start(): RunningVariant {
  return startBare(0)
}

/**
 * `busyMicros` of busy-waiting per request calibrates the table: it shows what a few microseconds
 * of extra work per request cost in throughput on this machine, whoever spends them.
 */
export function startBare(busyMicros: number): RunningVariant {
  const server = createServer((req, res) => {
    if (busyMicros > 0) {
      const until = performance.now() + busyMicros / 1000
      while (performance.now() < until) {
        // Spinning on purpose: this is the calibration load.
      }
    }
    const url = req.url ?? '/'
    if (req.method === 'GET' && url === '/profile') return sendJSON(res, 200, FIXED_PROFILE)
    if (req.method === 'GET' && url === '/public') return sendJSON(res, 200, PUBLIC_BODY)
    if (req.method === 'PUT' && url === '/preferences') {
      readJSON(req).then(
        (body) => (isPreferences(body) ? sendJSON(res, 200, { theme: body.theme, fontSize: body.fontSize }) : sendJSON(res, 400, { error: 'bad preferences' })),
        () => sendJSON(res, 400, { error: 'bad JSON' }),
      )
      return
    }
    if (req.method === 'POST' && url === '/login') {
      readJSON(req).then(
        (body) => (isLoginBody(body) ? sendJSON(res, 200, { userId: body.username }) : sendJSON(res, 400, { error: 'bad login' })),
        () => sendJSON(res, 400, { error: 'bad JSON' }),
      )
      return
    }
    sendJSON(res, 404, { error: 'not found' })
  })
  return { listen: (host) => listenOn(server, host), close: () => closeServer(server) }
}
