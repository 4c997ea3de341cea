import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A plain HTTP server that records every request and answers 401: it must never see a token. */
export interface Recorder {
  readonly url: string
  readonly requests: { url: string | undefined; headers: IncomingHttpHeaders; body: string }[]
  close(): Promise<void>
}

export async function startRecorder(): Promise<Recorder> {
  const requests: Recorder['requests'] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      requests.push({ url: req.url, headers: req.headers, body })
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end('{"error":{"code":"UNAUTHORIZED","message":"Authentication required"}}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
