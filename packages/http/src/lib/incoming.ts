/** The transport-neutral request the handler works on; each adapter provides one. */
export interface IncomingHTTP {
  readonly method: string
  readonly path: string
  /** Raw query string without the leading '?', or ''. */
  readonly query: string
  readonly secure: boolean
  /**
   * The local address the connection arrived on (`127.0.0.1`, `::1`), when the adapter knows it:
   * the origin policy relaxes and tightens its rules for loopback servers.
   */
  readonly localAddress?: string | undefined
  /**
   * The client's address, when known: the connection's peer, or what a proxy the adapter was told
   * to trust reported (never a client-supplied header by default). Becomes `wire.client.address`.
   */
  readonly clientAddress?: string | undefined
  header(name: string): string | undefined
  /** The request's own origin (`https://host[:port]`), or undefined when it cannot be known. */
  origin(): string | undefined
  /**
   * Reads the whole body as UTF-8, rejecting with `PayloadTooLargeError` past `limit` bytes, and
   * with `RequestAbortedError` when the client goes away before the body ends.
   */
  readBody(limit: number): Promise<string>
  /**
   * A body the host framework already parsed (Express's `req.body` after `express.json()` or
   * `express.urlencoded()`): the handler uses `value` as the body instead of calling `readBody`,
   * whose stream the host has consumed. Framework adapters set it.
   * @default undefined (the handler reads and parses the body itself)
   */
  readonly parsedBody?: { readonly value: unknown } | undefined
}

/** The transport-neutral response; each adapter writes it out. */
export interface OutgoingHTTP {
  readonly status: number
  /** Header pairs; a name may repeat (Set-Cookie). */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: string
  /**
   * A body written as it is produced (Server-Sent Events), instead of `body`: the adapters send the
   * headers at once, write each chunk as it comes, and cancel the stream when the client goes away.
   * No `Content-Length` is sent for it.
   */
  readonly stream?: ReadableStream<Uint8Array>
  /** The client went away before its request was read: adapters send nothing. */
  readonly aborted?: true
}
