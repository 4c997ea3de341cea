import { randomUUID } from 'node:crypto'
import {
  type Clock,
  type CoreUserSession,
  createConsoleLogger,
  type Logger,
  type SessionDeleteReason,
  type SessionRecord,
  type SessionStore,
  type SessionUpdateResult,
  type UserSession,
  cacheSessionStore,
  type SessionCacheOptions,
  type SessionCacheView,
  parseSessionMetadata,
  ServiceUnavailableError,
} from '@pikku/core'
import { assertSessionCacheOption, createSessionEventBus, isStorableKey, type SessionEventMessage, storeMisuse } from '@pikku/core/store'
import { ErrorReply } from 'redis'
import {
  borrowRedisConnection,
  isRedisClusterClient,
  isRedisStoreClient,
  type OpenedRedisConnection,
  openRedisConnection,
  type RedisStoreClient,
} from './redis-connection.js'
import { translateRedisError } from './redis-errors.js'
import { createOperationDeadlines } from './operation-deadlines.js'
import { changedMessageBuilder, deletedMessageBuilder } from './redis-event-message.js'
import { type RedisSubscriber, startRedisSubscriber } from './redis-subscriber.js'
import { assertKeyPrefix, redisKeys } from './redis-keys.js'
import { deleteRecord, indexAdd, indexList, type LuaScript, setRecord, touchRecord, updateIndexedRecord, updateRecord } from './redis-scripts.js'

export interface RedisStoreOptions {
  /**
   * Where Redis is: `redis[s]://[[user][:password]@]host[:port][/db]`.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string
  /**
   * URLs of some nodes of a Redis Cluster (the rest are discovered). When given, the store connects
   * to the Cluster instead of `url`. Every operation touches one key at a time, so no command ever
   * spans two slots.
   * @default undefined (a single node at `url`)
   */
  cluster?: readonly string[]
  /**
   * A node-redis v5 client (`createClient`) or Cluster client (`createCluster`) the app already
   * has, connected (or connecting: `client.connect()` was called). The store runs its commands on
   * it and opens one copy of it (`client.duplicate()`) for its event subscription, which pub/sub
   * needs to itself; `close()` closes that copy and leaves the app's client open. With a client,
   * its own options (database, credentials, TLS, timeouts, reconnection) apply, and `url`,
   * `cluster` and `connectTimeout` are not accepted.
   * @default undefined (the store opens and closes its own connections to `url` or `cluster`)
   */
  client?: RedisStoreClient
  /**
   * Prefix of every key and of the event channel. Stores sharing a prefix share sessions and
   * events; give each application (or test) its own.
   * @default 'pikku:session'
   */
  keyPrefix?: string
  /**
   * The time used for every expiry decision (ms since the epoch). Redis TTLs follow it too: a
   * record's TTL is `expiresAt - clock()`.
   * @default Date.now
   */
  clock?: Clock
  /**
   * How long (ms) one connection attempt may take.
   * @default 5_000
   */
  connectTimeout?: number
  /**
   * How long (ms) one store operation may wait for Redis before failing with
   * `ServiceUnavailableError`, so a hung server never hangs a request.
   * @default 5_000
   */
  commandTimeout?: number
  /**
   * Longest wait (ms) between reconnection attempts; attempts start at 50 ms and double up to
   * this. The store reconnects forever: it recovers by itself when Redis returns.
   * @default 2_000
   */
  maxReconnectDelay?: number
  /**
   * How often (ms) the store checks that its event subscription still delivers, by publishing a
   * heartbeat it must hear back before the next check; a silent subscription is replaced. 0 turns
   * the check off.
   * @default 10_000
   */
  subscriberCheckInterval?: number
  /**
   * Where connection losses and recoveries are reported (once per change, not per attempt).
   * @default createConsoleLogger()
   */
  logger?: Logger
  /**
   * A read cache of session records in this process, in front of Redis: a repeated read of a
   * session is answered from memory while this store's event subscription is confirmed, and every
   * change or logout made through any server drops the cached record when its event arrives.
   * While the subscription is down or unconfirmed, every read goes to Redis (and fails with
   * `ServiceUnavailableError` when Redis is down too); the cache is emptied on `resync`. Writes
   * always go to Redis. `false` turns it off.
   * @default false
   */
  cache?: SessionCacheOptions | false
}

/** The Redis store plus its lifecycle hooks. */
export interface RedisStore<S extends CoreUserSession = UserSession> extends SessionStore<S> {
  /**
   * Resolves once the command connection is up and, when there are subscribers, the event
   * subscription is confirmed by the server. Optional: operations wait for the first connection
   * attempt themselves.
   */
  ready(): Promise<void>
  /** Closes the connections the store opened (never a `client` the app passed in). */
  close(): Promise<void>
  /** The read cache's counters, when `cache` is on. */
  readonly cache?: SessionCacheView
}

function assertPositive(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of ms; got ${String(value)}`)
  }
}

/**
 * A store shared by any number of servers through Redis. Expiry uses Redis TTLs, the per-user
 * index is a sorted set scored by expiry, versioned updates are Lua scripts, and events travel
 * over pub/sub on a dedicated subscriber connection.
 */
export function createRedisStore<S extends CoreUserSession = UserSession>(options: RedisStoreOptions = {}): RedisStore<S> {
  const url = options.url ?? 'redis://127.0.0.1:6379'
  const { cluster, client: appClient } = options
  const keyPrefix = options.keyPrefix ?? 'pikku:session'
  const clock = options.clock ?? Date.now
  const connectTimeout = options.connectTimeout ?? 5_000
  const commandTimeout = options.commandTimeout ?? 5_000
  const maxReconnectDelay = options.maxReconnectDelay ?? 2_000
  const subscriberCheckInterval = options.subscriberCheckInterval ?? 10_000
  const logger = options.logger ?? createConsoleLogger()
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new TypeError(`url must start with redis:// or rediss://, such as 'redis://127.0.0.1:6379'; got ${JSON.stringify(url)}`)
  }
  if (cluster !== undefined) {
    if (options.url !== undefined) throw new TypeError('Pass either url (one Redis node) or cluster (Redis Cluster nodes), not both')
    if (!Array.isArray(cluster) || cluster.length === 0 || !cluster.every((node) => typeof node === 'string' && /^rediss?:\/\//.test(node))) {
      throw new TypeError(`cluster must be a non-empty list of redis:// or rediss:// node URLs; got ${JSON.stringify(cluster)}`)
    }
  }
  if (appClient !== undefined) {
    if (!isRedisStoreClient(appClient)) {
      throw new TypeError('client must be a node-redis v5 client: createClient() or createCluster() from the redis package')
    }
    for (const name of ['url', 'cluster', 'connectTimeout'] as const) {
      if (options[name] !== undefined) throw new TypeError(`Pass either client or ${name}, not both: the client's own options apply`)
    }
    if (!appClient.isOpen) {
      throw new TypeError('client is not connected: call client.connect() before createRedisStore({ client }); the store never connects or closes a client it did not create')
    }
  }
  assertKeyPrefix(keyPrefix)
  if (typeof clock !== 'function') throw new TypeError('clock must be a function returning ms since the epoch, such as Date.now')
  assertPositive('connectTimeout', connectTimeout)
  assertPositive('commandTimeout', commandTimeout)
  assertPositive('maxReconnectDelay', maxReconnectDelay)
  if (typeof subscriberCheckInterval !== 'number' || !Number.isFinite(subscriberCheckInterval) || subscriberCheckInterval < 0) {
    throw new RangeError(`subscriberCheckInterval must be 0 (off) or a positive number of ms; got ${String(subscriberCheckInterval)}`)
  }

  const cache = options.cache ?? false
  assertSessionCacheOption(cache)

  const keys = redisKeys(keyPrefix)
  const origin = randomUUID()
  const bus = createSessionEventBus({ onListenerError: (error) => logger.error('a session event listener threw', { error }) })

  let subscriber: RedisSubscriber | undefined
  let healthy = true
  // The last command failed because Redis could not be reached: the subscription is suspect too.
  let unreachable = false
  const markUnreachable = (): void => {
    unreachable = true
    // Its idle socket may not have noticed yet; revocations published meanwhile could be lost.
    subscriber?.suspect()
  }
  const reportError = (role: 'command' | 'subscriber') => (error: unknown) => {
    // Reported once per outage, not once per reconnection attempt.
    if (healthy) logger.warn(`Redis session store: ${role} connection lost; reconnecting`, { error })
    healthy = false
    if (role === 'command') markUnreachable()
  }
  const target = { duplicateOf: appClient, url: cluster === undefined ? url : undefined, rootNodes: cluster, connectTimeout, commandTimeout, maxReconnectDelay }
  const openCommandConnection = (): OpenedRedisConnection & { attempted: boolean } => {
    // No per-command timeout from node-redis: guard() gives each operation its deadline.
    const opened =
      appClient === undefined
        ? openRedisConnection({ ...target, commandTimeout: undefined, offlineQueue: false, onError: reportError('command') })
        : borrowRedisConnection(appClient)
    const tracked = Object.assign(opened, { attempted: false })
    void opened.firstAttempt.then(() => {
      tracked.attempted = true
    })
    return tracked
  }
  let command = openCommandConnection()
  const client = (): OpenedRedisConnection['connection'] => command.connection
  let replacedAt = 0
  // node-redis can end up believing a connection is up while its socket is gone (seen when a
  // reconnection races a dying server): every command then waits forever. An operation that ran
  // into its deadline therefore replaces the command connection, at most once per deadline period,
  // so the store recovers by itself; for a server that merely hangs, the new connection simply
  // waits for it like the old one would have.
  const replaceStuckConnection = (): void => {
    // The app's own client is the app's to replace; the store only reports the failure.
    if (closed || appClient !== undefined || Date.now() - replacedAt < commandTimeout) return
    replacedAt = Date.now()
    const stuck = command
    command = openCommandConnection()
    void stuck.close(0)
  }
  let closed = false

  // Every operation runs through here with one deadline for the whole call: a server that accepted
  // a command and then hangs would otherwise hold the request forever. Written as one promise and
  // one entry in the shared deadline list (no Promise.race, no async wrappers, no timer of its
  // own): this is the read of every request.
  const deadlines = createOperationDeadlines(commandTimeout)
  const guard = <T>(step: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('This Redis session store was closed; create a new one'))
    return new Promise<T>((resolve, reject) => {
      let settled = false
      let connected = false
      const fail = (error: unknown): void => {
        if (settled) return
        settled = true
        deadlines.settle(timing)
        const translated = translateRedisError(error)
        if (translated instanceof ServiceUnavailableError) markUnreachable()
        reject(translated)
      }
      const timing = deadlines.start(() => {
        // Only a command that got no answer suggests a stuck connection, not a slow first connect.
        if (connected) replaceStuckConnection()
        fail(new Error(`no reply within ${commandTimeout} ms`))
      })
      const succeed = (result: T): void => {
        if (settled) return
        settled = true
        deadlines.settle(timing)
        if (!healthy) logger.info('Redis session store: connection restored')
        healthy = true
        if (unreachable) {
          unreachable = false
          subscriber?.verify()
        }
        resolve(result)
      }
      const run = (): void => {
        connected = true
        try {
          step().then(succeed, fail)
        } catch (error) {
          fail(error)
        }
      }
      // Requests made while the application starts wait for the first connection attempt instead
      // of failing at once.
      if (command.attempted) run()
      else void command.firstAttempt.then(run)
    })
  }

  // A Cluster spreads one operation's keys over nodes (see update()); so does the app's Cluster client.
  const onCluster = cluster !== undefined || (appClient !== undefined && isRedisClusterClient(appClient))

  const evalScript = (script: LuaScript, key: string | string[], args: readonly (string | number)[]): Promise<unknown> => {
    const scriptKeys = typeof key === 'string' ? [key] : key
    return runScript(script, ['EVALSHA', script.sha1, String(scriptKeys.length), ...scriptKeys, ...args.map(String)])
  }

  /**
   * Runs `command`, a complete `['EVALSHA', sha1, numberOfKeys, ...keys, ...args]` of strings. On a
   * single node it goes out as it is (`sendCommand`): node-redis's typed `evalSha` would parse the
   * same arguments into a new array, through two more async functions, on the write of every
   * changing request. A Cluster client needs the typed call, which routes by the first key.
   */
  const runScript = async (script: LuaScript, command: string[]): Promise<unknown> => {
    if (onCluster) {
      const keyCount = Number(command[2])
      const call = { keys: command.slice(3, 3 + keyCount), arguments: command.slice(3 + keyCount) }
      try {
        return await client().evalSha(script.sha1, call)
      } catch (error) {
        if (error instanceof ErrorReply && error.message.startsWith('NOSCRIPT')) return client().eval(script.source, call)
        throw error
      }
    }
    try {
      return await client().sendCommand(command)
    } catch (error) {
      // After a restart (or on a new node) the script cache is empty: send the source once.
      if (!(error instanceof ErrorReply && error.message.startsWith('NOSCRIPT'))) throw error
      command[0] = 'EVAL'
      command[1] = script.source
      return client().sendCommand(command)
    }
  }

  const changedMessage = changedMessageBuilder(origin)
  const deletedMessage = deletedMessageBuilder(origin)

  /**
   * After a script wrote a record and published its `changed` event: this instance's own listeners
   * hear it directly, and a PUBLISH the script could not make is reported like a failed announce.
   */
  const announced = (id: string, userId: string, version: number, expiresAt: number, publishError: string | undefined): void => {
    if (publishError) {
      logger.warn('Redis session store: could not publish a session event', {
        error: new Error(publishError),
        event: { type: 'changed', id, userId, version, expiresAt },
      })
    }
    if (bus.listenerCount > 0) bus.publish({ type: 'changed', id, userId, version, expiresAt })
  }

  /**
   * After the delete script removed a live record and published its `deleted` event: this
   * instance's own listeners hear it directly, and a PUBLISH the script could not make is reported.
   */
  const announcedDeletion = (event: SessionEventMessage['event'], publishError: string): void => {
    if (publishError) logger.warn('Redis session store: could not publish a session event', { error: new Error(publishError), event })
    bus.publish(event)
  }

  /** Runs the delete script on one record; the owner when a live record was removed (and announced). */
  const deleteLive = async (id: string, now: number, reason: SessionDeleteReason, owner?: string): Promise<string | undefined> => {
    const message = deletedMessage(id, reason)
    const reply = (await evalScript(deleteRecord, keys.record(id), [now, owner === undefined ? '0' : '1', owner ?? '', keys.channel, message.head, message.tail])) as [string, string] | null
    if (reply === null) return undefined
    announcedDeletion({ type: 'deleted', id, userId: reply[0], reason }, reply[1])
    return reply[0]
  }

  const announce = async (event: SessionEventMessage['event']): Promise<void> => {
    bus.publish(event)
    try {
      await client().publish(keys.channel, JSON.stringify({ origin, event } satisfies SessionEventMessage))
    } catch (error) {
      // The write itself succeeded and was acknowledged by Redis; failing the call now would make
      // the caller retry a write that happened. Other servers miss this one event.
      logger.warn('Redis session store: could not publish a session event', { error, event })
    }
  }

  const ensureSubscribed = (): void => {
    if (subscriber !== undefined || closed) return
    subscriber = startRedisSubscriber({
      open: (events) =>
        openRedisConnection({
          ...target,
          offlineQueue: true,
          onError: reportError('subscriber'),
          onInterrupted: events.interrupted,
          onReady: events.ready,
        }),
      channel: keys.channel,
      origin,
      deliver: (event) => bus.publish(event),
      publish: async (message) => {
        await guard(() => client().publish(keys.channel, message))
      },
      maxReconnectDelay,
      checkInterval: subscriberCheckInterval,
      logger,
    })
  }

  const ttlFor = (expiresAt: number, now: number): number => Math.floor(expiresAt - now)

  const parseRecord = (id: string, hash: Record<string, string>): SessionRecord<S> | undefined => {
    const { u, d, v, c, a, e, m } = hash
    if (u === undefined || d === undefined || v === undefined || c === undefined || a === undefined || e === undefined) return undefined
    const record: SessionRecord<S> = { id, userId: u, data: JSON.parse(d) as S, version: Number(v), createdAt: Number(c), lastActiveAt: Number(a), expiresAt: Number(e) }
    const metadata = m === undefined ? undefined : parseSessionMetadata(m)
    return metadata === undefined ? record : { ...record, metadata }
  }

  const readLive = async (id: string, now: number): Promise<SessionRecord<S> | undefined> => {
    const record = parseRecord(id, await client().hGetAll(keys.record(id)))
    return record === undefined || record.expiresAt <= now ? undefined : record
  }

  /** The user's indexed ids whose score is still live, after dropping `stale` ones. */
  const indexedIds = async (userId: string, now: number, stale: readonly string[] = []): Promise<string[]> =>
    (await evalScript(indexList, keys.user(userId), [now, ...stale])) as string[]

  const store: RedisStore<S> = {
    get(id) {
      return guard(() => (isStorableKey(id) ? readLive(id, clock()) : Promise.resolve(undefined)))
    },

    set(record) {
      return guard(async () => {
        if (!isStorableKey(record.id) || !isStorableKey(record.userId)) {
          throw storeMisuse('Session id and userId must be well-formed strings without NUL characters')
        }
        const now = clock()
        const json = JSON.stringify(record.data)
        // Index first, record second: if the connection dies between the two, the index holds an
        // id without a record (dropped on the next read), never a record missing from its index,
        // which would escape "log out everywhere".
        await evalScript(indexAdd, keys.user(record.userId), [now, record.id, record.expiresAt, 'add'])
        const message = changedMessage(record.id, record.userId, record.expiresAt)
        const [publishError, previousOwner, replacedLive] = (await evalScript(setRecord, keys.record(record.id), [
          keys.channel,
          message.head,
          message.tail,
          record.userId,
          json,
          record.version,
          record.createdAt,
          record.lastActiveAt,
          record.expiresAt,
          ttlFor(record.expiresAt, now),
          now,
          record.metadata === undefined ? '' : JSON.stringify(record.metadata),
        ])) as [string, string?, number?]
        if (previousOwner !== undefined) await indexedIds(previousOwner, now, [record.id])
        if (replacedLive === 1 && previousOwner !== undefined) {
          // The script left both events to us, so that the previous owner's comes first.
          await announce({ type: 'deleted', id: record.id, userId: previousOwner, reason: 'cleared' })
          await announce({ type: 'changed', id: record.id, userId: record.userId, version: record.version, expiresAt: record.expiresAt })
        } else {
          announced(record.id, record.userId, record.version, record.expiresAt, publishError)
        }
      })
    },

    update(id, expectedVersion, change) {
      return guard(async (): Promise<SessionUpdateResult> => {
        if (!isStorableKey(id) || !isStorableKey(change.data.userId)) return 'missing'
        const now = clock()
        const userId = change.data.userId
        const version = expectedVersion + 1
        const message = changedMessage(id, userId, change.expiresAt)
        const json = JSON.stringify(change.data)
        const metadata = change.metadata === undefined ? '' : JSON.stringify(change.metadata)
        let reply: unknown
        if (!onCluster) {
          // One round trip: the index entry and the record change together in one script. The whole
          // command is built as strings in one array, in the order of updateIndexedRecord's KEYS and ARGV.
          reply = await runScript(updateIndexedRecord, [
            'EVALSHA',
            updateIndexedRecord.sha1,
            '2',
            keys.record(id),
            keys.user(userId),
            keys.channel,
            message.head,
            message.tail,
            String(expectedVersion),
            userId,
            json,
            String(change.lastActiveAt),
            String(change.expiresAt),
            String(ttlFor(change.expiresAt, now)),
            String(now),
            String(version),
            metadata,
            id,
          ])
        } else {
          // On a Cluster the two keys live in different slots: extend the index entry first, then
          // write the record, for the same reason as in set().
          await evalScript(indexAdd, keys.user(userId), [now, id, change.expiresAt, 'extend'])
          reply = await evalScript(updateRecord, keys.record(id), [
            keys.channel,
            message.head,
            message.tail,
            expectedVersion,
            userId,
            json,
            change.lastActiveAt,
            change.expiresAt,
            ttlFor(change.expiresAt, now),
            now,
            version,
            metadata,
          ])
        }
        const [result, publishError] = reply as [SessionUpdateResult | 'owner', string?]
        if (result === 'owner') throw storeMisuse('A session update cannot change userId; store a new session instead')
        if (result === 'ok') announced(id, userId, version, change.expiresAt, publishError)
        return result
      })
    },

    touch(id, lastActiveAt, expiresAt) {
      return guard(async () => {
        if (!isStorableKey(id)) return false
        const now = clock()
        // The owner is needed to extend the index entry before the record (see set()).
        const userId = await client().hGet(keys.record(id), 'u')
        if (userId === null || userId === undefined) return false
        await evalScript(indexAdd, keys.user(userId), [now, id, expiresAt, 'extend'])
        const message = changedMessage(id, userId, expiresAt)
        const touched = (await evalScript(touchRecord, keys.record(id), [
          keys.channel,
          message.head,
          message.tail,
          userId,
          lastActiveAt,
          expiresAt,
          ttlFor(expiresAt, now),
          now,
        ])) as [string, string] | null
        if (touched === null) return false
        announced(id, userId, Number(touched[0]), expiresAt, touched[1])
        return true
      })
    },

    delete(id, reason: SessionDeleteReason = 'cleared') {
      return guard(async () => {
        if (!isStorableKey(id)) return false
        const now = clock()
        const userId = await deleteLive(id, now, reason)
        if (userId === undefined) return false
        await indexedIds(userId, now, [id])
        return true
      })
    },

    listByUser(userId) {
      return guard(async () => {
        if (!isStorableKey(userId)) return []
        const now = clock()
        const ids = await indexedIds(userId, now)
        const records = await Promise.all(ids.map((id) => readLive(id, now)))
        const live: SessionRecord<S>[] = []
        const stale: string[] = []
        records.forEach((record, i) => {
          // A record that is gone, or now belongs to someone else, is a stale index member.
          if (record !== undefined && record.userId === userId) live.push(record)
          else stale.push(ids[i]!)
        })
        if (stale.length > 0) await indexedIds(userId, now, stale)
        return live.sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1))
      })
    },

    deleteByUser(userId, deleteOptions) {
      return guard(async () => {
        if (!isStorableKey(userId)) return 0
        const now = clock()
        const ids = (await indexedIds(userId, now)).filter((id) => id !== deleteOptions?.except)
        const owners = await Promise.all(ids.map((id) => deleteLive(id, now, 'revoked', userId)))
        await indexedIds(userId, now, ids)
        return owners.filter((owner) => owner !== undefined).length
      })
    },

    subscribe(listener) {
      ensureSubscribed()
      return bus.subscribe(listener)
    },

    async ready() {
      // Any round trip proves the connection; this key never exists.
      await guard(() => client().exists(keys.record('')))
      await subscriber?.subscribed
    },

    async close() {
      if (closed) return
      closed = true
      await Promise.all(
        [command, subscriber].map(async (opened) => {
          await opened?.close(commandTimeout)
        }),
      )
    },
  }
  if (cache === false) return store
  return cacheSessionStore(store, cache, { clock, eventsConfirmed: () => subscriber?.subscribed ?? Promise.reject(new Error('closed')) })
}
