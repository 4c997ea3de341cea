/**
 * What HTTP middleware (session strategies, CSRF checks) can see of a request and do to its
 * response. Available as `wire.http` on calls that arrived over HTTP.
 */
export interface HTTPWireInfo {
  readonly method: string
  /** The request path, without the query string. */
  readonly path: string
  /** Path parameters of the matched route. */
  readonly params: Readonly<Record<string, string>>
  /** True when the request arrived over TLS (or a trusted proxy said so; see `trustProxy`). */
  readonly secure: boolean
  /** The local address the connection arrived on, when the adapter knows it (node: always). */
  readonly localAddress: string | undefined
  /**
   * The request's own origin, `scheme://host[:port]`: from the URL on the fetch adapter, from the
   * connection's scheme and the `Host` header on the node adapter. Undefined when unknown.
   */
  readonly origin: string | undefined
  /** A request header by lower-case name; repeated headers are joined with ', '. */
  header(name: string): string | undefined
  /** Replaces a response header. */
  setHeader(name: string, value: string): void
  /** Adds a response header value (use for Set-Cookie). */
  appendHeader(name: string, value: string): void
  /** Success status to send instead of 200. */
  status: number | undefined
}

declare module '@pikku/core' {
  interface PikkuWire {
    /** Present on calls that arrived over HTTP. */
    readonly http?: HTTPWireInfo
  }
}
