import { createClient, createCluster } from 'redis'

/**
 * The commands the store uses, which a single-node client and a Cluster client both provide (the
 * Cluster client routes each command by its one key).
 */
export interface RedisConnection {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  hGetAll(key: string): Promise<Record<string, string>>
  hGet(key: string, field: string): Promise<string | null | undefined>
  exists(key: string): Promise<number>
  /**
   * A command as it goes on the wire, without node-redis's per-command argument parsing. Only on a
   * single-node client: a Cluster client's `sendCommand` takes the key to route by first.
   */
  sendCommand(args: string[]): Promise<unknown>
  publish(channel: string, message: string): Promise<unknown>
  subscribe(channel: string, listener: (message: string) => void): Promise<void>
  close(): Promise<void>
  destroy(): void
}

/**
 * A node-redis v5 client (`createClient`) or Cluster client (`createCluster`) that the app created
 * and connects and closes itself. Only what the store checks is spelled out; any node-redis v5
 * client, with or without modules, fits.
 */
export interface RedisStoreClient {
  readonly isOpen: boolean
  duplicate(...args: never[]): unknown
  evalSha(...args: never[]): unknown
  hGetAll(...args: never[]): unknown
}

/** Whether `value` looks like a node-redis client (ioredis has none of `duplicate` + `evalSha` in this shape). */
export function isRedisStoreClient(value: unknown): value is RedisStoreClient {
  if (value === null || typeof value !== 'object') return false
  const client = value as Record<string, unknown>
  return typeof client['duplicate'] === 'function' && typeof client['evalSha'] === 'function' && typeof client['hGetAll'] === 'function'
}

/** Whether `client` is a Cluster client (`createCluster`): keys in different slots live on different nodes. */
export function isRedisClusterClient(client: RedisStoreClient): boolean {
  return typeof (client as unknown as Record<string, unknown>)['getSlotMaster'] === 'function'
}

/**
 * The app's own client as the store's command connection: used as it is, never connected or
 * closed by the store.
 */
export function borrowRedisConnection(client: RedisStoreClient): OpenedRedisConnection {
  return {
    // The node-redis types are generic over modules and scripts; the store needs only this subset.
    connection: client as unknown as RedisConnection,
    firstAttempt: Promise.resolve(),
    close: async () => undefined,
  }
}

export interface RedisConnectionOptions {
  /**
   * Open a copy of this client (same server, credentials and socket options) instead of
   * connecting to `url` / `rootNodes`.
   */
  duplicateOf?: RedisStoreClient | undefined
  /** A single node, or undefined when `rootNodes` is given. */
  url: string | undefined
  /** Some nodes of a Redis Cluster. */
  rootNodes: readonly string[] | undefined
  /** Queue commands while disconnected (only for the subscriber, whose SUBSCRIBE should wait). */
  offlineQueue: boolean
  connectTimeout: number
  /**
   * node-redis's own timeout per command, or undefined for none. The store's command connection has
   * none: every store operation already has a deadline of its own, and node-redis arms an
   * AbortSignal timer for each command it times, which cost about 18 µs of CPU per read (half of
   * the store's whole read) when measured with `benchmarks/src/profile/redis-read-path.ts`.
   */
  commandTimeout: number | undefined
  maxReconnectDelay: number
  onError: (error: unknown) => void
  /** Called whenever the connection, or for a Cluster one of its node connections, fails. */
  onInterrupted?: () => void
  /**
   * Called each time a single-node connection becomes ready, including after node-redis
   * reconnected it by itself; by then node-redis has already renewed its subscriptions.
   */
  onReady?: () => void
}

export interface OpenedRedisConnection {
  connection: RedisConnection
  /** Settles after the first connection attempt, successful or not; never rejects. */
  firstAttempt: Promise<void>
  /**
   * Closes gracefully (pending replies are awaited) when connected; a connection that is down or
   * reconnecting would wait for Redis forever, so it is destroyed instead, at the latest after
   * `timeout` ms.
   */
  close(timeout: number): Promise<void>
}

export function openRedisConnection(options: RedisConnectionOptions): OpenedRedisConnection {
  const backoff = (retries: number): number => Math.min(50 * 2 ** Math.min(retries, 16), options.maxReconnectDelay)
  const clientOptions = {
    // Without this, commands issued while disconnected would queue silently until Redis returned,
    // hanging requests; the store fails fast with a 503 instead.
    disableOfflineQueue: !options.offlineQueue,
    ...(options.commandTimeout === undefined ? {} : { commandOptions: { timeout: options.commandTimeout } }),
    socket: { connectTimeout: options.connectTimeout, reconnectStrategy: backoff },
  }
  const raw = (
    options.duplicateOf !== undefined
      ? options.duplicateOf.duplicate()
      : options.rootNodes === undefined
        ? createClient({ url: options.url, ...clientOptions })
        : createCluster({ rootNodes: options.rootNodes.map((url) => ({ url })), defaults: clientOptions })
  ) as ReturnType<typeof createClient> | ReturnType<typeof createCluster>
  // The node-redis types are generic over modules and scripts; the store needs only this subset.
  const connection = raw as unknown as RedisConnection & { isReady?: boolean; isOpen: boolean }
  let settleFirstAttempt: () => void = () => undefined
  const firstAttempt = new Promise<void>((resolve) => {
    settleFirstAttempt = resolve
  })
  raw.on('error', (error: unknown) => {
    settleFirstAttempt()
    options.onError(error)
    options.onInterrupted?.()
  })
  // A Cluster client reports its node connections' failures (the pub/sub one among them) apart.
  if (options.onInterrupted !== undefined) raw.on('node-error', options.onInterrupted)
  if (options.onReady !== undefined) raw.on('ready', options.onReady)

  let closed = false
  let retryTimer: NodeJS.Timeout | undefined
  const connect = (attempt: number): void => {
    raw.connect().then(settleFirstAttempt, (error: unknown) => {
      settleFirstAttempt()
      options.onError(error)
      // A single-node client retries by itself (reconnectStrategy); a Cluster client gives up when
      // no root node answers its first connection, so it is asked again with the same backoff.
      if (!closed) retryTimer = setTimeout(() => connect(attempt + 1), backoff(attempt))
    })
  }
  connect(0)

  return {
    connection,
    firstAttempt,
    async close(timeout) {
      closed = true
      clearTimeout(retryTimer)
      const destroy = (): void => {
        try {
          connection.destroy()
        } catch {
          // Already closed: nothing left to release.
        }
      }
      if (!connection.isOpen || connection.isReady === false) {
        destroy()
        return
      }
      let timer: NodeJS.Timeout | undefined
      const outcome = await Promise.race([
        connection.close().then(
          () => 'closed',
          () => 'failed',
        ),
        new Promise<string>((resolve) => {
          timer = setTimeout(resolve, timeout, 'timeout')
        }),
      ])
      clearTimeout(timer)
      if (outcome !== 'closed') destroy()
    },
  }
}
