import { serveRequest } from './fetch-host.js'

const server = Bun.serve({ port: Number(process.env['PORT'] ?? 3000), hostname: '127.0.0.1', fetch: serveRequest })
console.log(`listening on ${server.url.origin}`)
