import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy in front of a database (Redis, PostgreSQL) that a test breaks on purpose, to take the
 * database away from a store without stopping it. Connections are numbered from 0 in the order they
 * were opened; refused ones are not counted.
 */
export interface TcpFaultProxy {
  readonly port: number
  /** Connections opened so far. */
  readonly connections: number
  /** Drops every open connection and refuses new ones. */
  cut(): Promise<void>
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>
  /** Keeps every connection open but stops passing bytes either way: a hung server. */
  stall(): void
  /** Passes bytes again after `stall()`. */
  resume(): void
  /** Freezes one connection for good (open, silent): a half-open socket. */
  stallConnection(connection: number): void
  /** Drops one connection, as a network failure would; the others stay open. */
  cutConnection(connection: number): void
  /** Refuses new connections (the database unreachable) while the open ones keep working. */
  refuseNew(): Promise<void>
  /** Accepts connections again, on the same port. */
  acceptNew(): Promise<void>
  close(): Promise<void>
}

export async function startTcpFaultProxy(target: { host: string; port: number }): Promise<TcpFaultProxy> {
  const pairs: [Socket, Socket][] = []
  const sockets = (): Socket[] => pairs.flat()
  let server: Server | undefined
  let port = 0
  let stalled = false

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
    if (stalled) {
      client.pause()
      upstream.pause()
    }
  }

  const listen = async (): Promise<void> => {
    const next = createServer(accept)
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => resolve())
    })
    port = (next.address() as { port: number }).port
    server = next
  }

  // Refusing closes the listening socket, so a client's connection attempt is refused outright
  // (ECONNREFUSED), as when the database is down, rather than accepted and dropped. close() frees
  // the port at once; its callback waits for the open connections to end, so it is awaited only
  // when none are open.
  const stopListening = async (): Promise<void> => {
    const current = server
    server = undefined
    if (current === undefined) return
    const closed = new Promise((resolve) => current.close(resolve))
    if (sockets().every((socket) => socket.destroyed)) await closed
  }

  const cutAll = async (): Promise<void> => {
    for (const socket of sockets()) socket.destroy()
    await stopListening()
  }

  const pair = (connection: number): [Socket, Socket] => {
    const found = pairs[connection]
    if (found === undefined) throw new Error(`No connection ${connection}; ${pairs.length} opened so far`)
    return found
  }

  await listen()
  return {
    get port() {
      return port
    },
    get connections() {
      return pairs.length
    },
    cut: cutAll,
    restore: listen,
    stall() {
      stalled = true
      for (const socket of sockets()) socket.pause()
    },
    resume() {
      stalled = false
      for (const socket of sockets()) socket.resume()
    },
    stallConnection(connection) {
      for (const socket of pair(connection)) {
        socket.unpipe()
        socket.pause()
      }
    },
    cutConnection(connection) {
      for (const socket of pair(connection)) socket.destroy()
    },
    refuseNew: stopListening,
    acceptNew: listen,
    close: cutAll,
  }
}
