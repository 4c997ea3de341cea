import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CLIFailure } from './cli-failure.js'

/** The page the browser shows once it has handed the code back. */
const DONE_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto"><h1>You can close this window</h1>
<p>The command line has what it needs.</p></body></html>`

export interface LoopbackCallback {
  /** `http://127.0.0.1:<port>/callback` */
  readonly redirectUri: string
  /** The query of the one request to `/callback`; rejects on timeout or cancel. The listener is closed either way. */
  readonly parameters: Promise<URL>
  close(): void
}

/**
 * The redirect target of a native app's browser sign-in (RFC 8252, section 7.3): a listener on
 * 127.0.0.1 only (never all interfaces), on a port the system picks, that takes exactly one
 * request to `/callback` and then closes, or closes after `timeoutMs`. The `state` of what arrives
 * is checked by the caller (oauth4webapi's `validateAuthResponse`).
 */
export async function listenForCallback(timeoutMs: number, signal: AbortSignal, app: string): Promise<LoopbackCallback> {
  let settle: { resolve: (url: URL) => void; reject: (error: unknown) => void } | undefined
  const parameters = new Promise<URL>((resolve, reject) => (settle = { resolve, reject }))
  // Handled by whoever awaits it; never an unhandled rejection when nobody does (a failure before).
  parameters.catch(() => {})
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (req.method !== 'GET' || url.pathname !== '/callback') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
      res.end('Not found')
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" })
    res.end(DONE_PAGE)
    // One callback only: nothing else is accepted, and the listener goes once the page is sent.
    server.close()
    res.once('finish', finish)
    settle?.resolve(url)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const timer = setTimeout(() => {
    finish()
    settle?.reject(new CLIFailure('LOGIN_EXPIRED', `The browser did not come back within ${Math.round(timeoutMs / 1000)} s; nothing was saved.`, { hint: `Run \`${app} login\` again, or \`${app} login --device\` to sign in from another device.` }))
  }, timeoutMs)
  const onAbort = (): void => {
    finish()
    settle?.reject(new CLIFailure('CANCELLED', 'Cancelled.'))
  }
  signal.addEventListener('abort', onAbort, { once: true })
  function finish(): void {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
    if (server.listening) server.close()
    server.closeIdleConnections()
  }
  const port = (server.address() as AddressInfo).port
  return { redirectUri: `http://127.0.0.1:${port}/callback`, parameters, close: finish }
}
