import { serveRequest } from './fetch-host.js'

Deno.serve({
  port: Number(Deno.env.get('PORT') ?? 3000),
  hostname: '127.0.0.1',
  onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`),
}, serveRequest)
