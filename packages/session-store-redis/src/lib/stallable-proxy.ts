import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy in front of Redis whose connections a test can freeze or cut one by one: a frozen
 * connection stays open but passes nothing, like a half-open socket; a cut one is closed, as by a
 * network failure. Connections are numbered in the order they were opened.
 */
export interface StallableProxy {
  readonly port: number
  /** Connections opened so far (refused ones are not counted). */
  readonly connections: number
  stall(connection: number): void
  /** Closes one connection on both sides; new connections are still accepted unless refused. */
  cut(connection: number): void
  /** Stops listening, so new connections are refused (Redis unreachable); open ones keep working. */
  refuseNew(): Promise<void>
  /** Listens again, on the same port. */
  acceptNew(): Promise<void>
  close(): Promise<void>
}

export async function startStallableProxy(target: { host: string; port: number }): Promise<StallableProxy> {
  const pairs: [Socket, Socket][] = []
  const accept = (client: Socket): void => {
    const upstream = connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
    pairs.push([client, upstream])
  }
  let port = 0
  let server: Server | undefined
  // Refusing closes the listening socket, so a client's connection attempt is refused outright
  // (ECONNREFUSED), as when Redis is down, rather than accepted and dropped.
  const listen = async (): Promise<void> => {
    const next = createServer(accept)
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject)
      next.listen(port, '127.0.0.1', resolve)
    })
    port = (next.address() as { port: number }).port
    server = next
  }
  const stopListening = async (): Promise<void> => {
    const current = server
    server = undefined
    if (current === undefined) return
    // close() frees the port at once; its callback would wait for the open connections to end.
    const closed = new Promise((resolve) => current.close(resolve))
    if (pairs.every((open) => open.every((socket) => socket.destroyed))) await closed
  }
  await listen()
  const pair = (connection: number): [Socket, Socket] => {
    const found = pairs[connection]
    if (found === undefined) throw new Error(`No connection ${connection}; ${pairs.length} opened so far`)
    return found
  }
  return {
    get port() {
      return port
    },
    get connections() {
      return pairs.length
    },
    stall(connection) {
      for (const socket of pair(connection)) {
        socket.unpipe()
        socket.pause()
      }
    },
    cut(connection) {
      for (const socket of pair(connection)) socket.destroy()
    },
    refuseNew: stopListening,
    acceptNew: listen,
    async close() {
      for (const open of pairs) for (const socket of open) socket.destroy()
      await stopListening()
    },
  }
}
