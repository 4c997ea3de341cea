import { connect, createServer, type Socket } from 'node:net'

/**
 * A TCP proxy in front of Redis whose connections a test can freeze or cut one by one: a frozen
 * connection stays open but passes nothing, like a half-open socket; a cut one is closed, as by a
 * network failure. Connections are numbered in the order they were opened.
 */
export interface StallableProxy {
  readonly port: number
  /** Connections opened so far. */
  readonly connections: number
  stall(connection: number): void
  /** Closes one connection on both sides; new connections are still accepted. */
  cut(connection: number): void
  close(): Promise<void>
}

export async function startStallableProxy(target: { host: string; port: number }): Promise<StallableProxy> {
  const pairs: [Socket, Socket][] = []
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
    pairs.push([client, upstream])
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    get connections() {
      return pairs.length
    },
    stall(connection) {
      const pair = pairs[connection]
      if (pair === undefined) throw new Error(`No connection ${connection}; ${pairs.length} opened so far`)
      for (const socket of pair) {
        socket.unpipe()
        socket.pause()
      }
    },
    cut(connection) {
      const pair = pairs[connection]
      if (pair === undefined) throw new Error(`No connection ${connection}; ${pairs.length} opened so far`)
      for (const socket of pair) socket.destroy()
    },
    async close() {
      for (const pair of pairs) for (const socket of pair) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
