import { createServer, connect, type Server, type Socket } from 'node:net'

/** A TCP proxy a test can cut and restore, to take a database away from a store without stopping it. */
export interface CuttableProxy {
  readonly port: number
  /** Drops every open connection and refuses new ones. */
  cut(): Promise<void>
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>
  /** Keeps every connection open but stops passing bytes either way: a hung server. */
  stall(): void
  /** Passes bytes again after `stall()`. */
  resume(): void
  /** Connections opened so far, numbered from 0 in the order they were opened. */
  readonly connections: number
  /** Freezes one connection for good (open, silent): a half-open socket. */
  stallConnection(connection: number): void
  /** Drops one connection, as a network failure would; the others stay open. */
  cutConnection(connection: number): void
  /** Refuses new connections (the database unreachable) while the open ones keep working. */
  refuseNew(): void
  /** Accepts connections again, on the same port. */
  acceptNew(): Promise<void>
  close(): Promise<void>
}

export async function startCuttableProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0
  let stalled = false
  const opened: [Socket, Socket][] = []

  const open = async (): Promise<void> => {
    const next = createServer((client) => {
      const upstream = connect(target.port, target.host)
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
      opened.push([client, upstream])
      if (stalled) {
        client.pause()
        upstream.pause()
      }
    })
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => resolve())
    })
    port = (next.address() as { port: number }).port
    server = next
  }

  const shut = async (): Promise<void> => {
    const current = server
    server = undefined
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    if (current !== undefined) await new Promise((resolve) => current.close(resolve))
  }

  const pairOf = (connection: number): [Socket, Socket] => {
    const pair = opened[connection]
    if (pair === undefined) throw new Error(`No connection ${connection}; ${opened.length} opened so far`)
    return pair
  }

  await open()
  return {
    get port() {
      return port
    },
    cut: shut,
    restore: open,
    stall() {
      stalled = true
      for (const socket of sockets) socket.pause()
    },
    resume() {
      stalled = false
      for (const socket of sockets) socket.resume()
    },
    get connections() {
      return opened.length
    },
    stallConnection(connection) {
      for (const socket of pairOf(connection)) {
        socket.unpipe()
        socket.pause()
      }
    },
    cutConnection(connection) {
      for (const socket of pairOf(connection)) socket.destroy()
    },
    refuseNew() {
      const current = server
      server = undefined
      // Frees the port at once; the callback would wait for the open connections to end.
      current?.close()
    },
    acceptNew: open,
    close: shut,
  }
}
