import {
  type Clock,
  ConflictError,
  type CoreUserSession,
  generateSessionToken,
  hashSessionToken,
  isSessionTokenShape,
  type Logger,
  PikkuError,
  ServiceUnavailableError,
  STORE_UNAVAILABLE_MESSAGE,
  type SessionDeleteReason,
  type SessionEventListener,
  type SessionRecord,
  type SessionStore,
} from '@pikku/core'
import { createAnonymousSessions } from './anonymous-sessions.js'

/** What is stored for one MCP session: a small record in the app's session store. */
export interface MCPSessionData extends CoreUserSession {
  /** A per-MCP-session owner key (`mcp:…`), never a real user id: see `storageIdOf`. */
  userId: string
  kind: 'mcp-session'
  /** Storage id of the user session the `login` tool started in this MCP session. */
  boundSessionId?: string
  /**
   * The user this MCP session belongs to: the bearer token's user at initialize, or the user of
   * the in-band login. Every later request must present this user's credential.
   */
  boundUserId?: string
  /**
   * How the owner was set: `bearer` (a token at initialize: the MCP session stays theirs) or
   * `login` (the in-band login: the owner's own logout in this MCP session releases it).
   */
  ownedVia?: 'bearer' | 'login'
  /** The client's label from initialize (`clientInfo` name/version), for `wire.client.label`. */
  client?: string
}

export type MCPSessionRecord = SessionRecord<MCPSessionData>

export interface MCPSessionRecordsOptions {
  store: SessionStore<CoreUserSession>
  idleTimeout: number
  absoluteTimeout: number
  renewalInterval: number
  /** How many anonymous MCP sessions this process keeps in memory. */
  maxAnonymous: number
  /** Idle timeout of anonymous MCP sessions (ms). */
  anonymousIdleTimeout: number
  /** An anonymous MCP session left memory (evicted, idle, expired): end what was served for it. */
  onAnonymousEvicted: (id: string) => void
  clock: Clock
  logger: Logger
}

/** Why an in-band login could not be bound to the MCP session. */
export type BindResult = 'ok' | 'missing' | 'not-yours'

export interface MCPSessionRecords {
  /**
   * Starts an MCP session, owned by `owner` when given (a bearer token's user): such a session is
   * stored; an anonymous one is kept in this process's memory only. `token` is the `Mcp-Session-Id`.
   */
  create(owner: string | undefined, client: string | undefined): Promise<{ token: string; record: MCPSessionRecord }>
  /** The live MCP session for an `Mcp-Session-Id`, or undefined (unknown, expired, deleted). */
  load(token: string): Promise<MCPSessionRecord | undefined>
  /** Renews the idle timer (in the store, when the last renewal is older than the renewal interval). */
  touch(record: MCPSessionRecord): Promise<void>
  /**
   * Binds the user session an in-band login started in this MCP session and makes its user the
   * owner; an anonymous session moves to the store now. `not-yours` when another user owns it.
   */
  bind(id: string, session: { id: string; userId: string }): Promise<BindResult>
  /**
   * Forgets the bound user session (it ended). With `logout` (the owner left by their own logout
   * in this MCP session), an owner set by that in-band login is released too: the MCP session is
   * anonymous again. A bearer token's ownership stays.
   */
  unbind(id: string, reason: 'logout' | 'ended'): Promise<void>
  /** Ends an MCP session; true when a live one was removed. */
  delete(id: string, reason: SessionDeleteReason): Promise<boolean>
  /** The live record by storage id (memory or store), expired ones excluded. */
  get(id: string): Promise<MCPSessionRecord | undefined>
  /** Evicts idle anonymous sessions; returns how many. */
  sweepAnonymous(): number
  /** Anonymous MCP sessions in memory. */
  readonly anonymousCount: number
  /** The store's events (deletions made by any process sharing it). */
  subscribe(listener: SessionEventListener): () => void
}

const PREFIX = 'mcp:'
const MAX_BIND_ATTEMPTS = 8

/**
 * The storage id of an `Mcp-Session-Id`. The prefix keeps MCP records out of reach of user-session
 * lookups: `loadByToken` hashes to a bare base64url id, which never contains ':', so an MCP
 * session id presented as a cookie or bearer token finds nothing.
 */
export function storageIdOf(token: string): string {
  return PREFIX + hashSessionToken(token)
}

export function createMCPSessionRecords(options: MCPSessionRecordsOptions): MCPSessionRecords {
  const { store, idleTimeout, absoluteTimeout, renewalInterval, clock, logger } = options
  const anonymous = createAnonymousSessions({
    max: options.maxAnonymous,
    idleTimeout: options.anonymousIdleTimeout,
    absoluteTimeout,
    clock,
    onEvict: options.onAnonymousEvicted,
  })

  const guard = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      // A store's own outage error may quote its driver: callers get core's fixed message.
      if (error instanceof PikkuError && (error.code !== 'SERVICE_UNAVAILABLE' || error.message === STORE_UNAVAILABLE_MESSAGE)) throw error
      if (!(error instanceof PikkuError)) logger.error(`session store failed during MCP session ${operation}`, { error })
      throw new ServiceUnavailableError(STORE_UNAVAILABLE_MESSAGE, { cause: error })
    }
  }

  const expiryFor = (createdAt: number, lastActiveAt: number): number =>
    Math.min(lastActiveAt + idleTimeout, createdAt + absoluteTimeout)

  const isExpired = (record: Pick<MCPSessionRecord, 'createdAt' | 'lastActiveAt' | 'expiresAt'>): boolean => {
    const now = clock()
    return now >= record.expiresAt || now >= record.lastActiveAt + idleTimeout || now >= record.createdAt + absoluteTimeout
  }

  const getStored = async (id: string): Promise<MCPSessionRecord | undefined> => {
    const record = (await guard('get', () => store.get(id))) as MCPSessionRecord | undefined
    if (record === undefined || record.data.kind !== 'mcp-session') return undefined
    if (isExpired(record)) {
      await guard('delete', () => store.delete(id, 'expired'))
      return undefined
    }
    return record
  }

  const get = async (id: string): Promise<MCPSessionRecord | undefined> => anonymous.get(id) ?? getStored(id)

  /** Moves an anonymous session to the store with its new owner (an in-band login). */
  const promote = async (record: MCPSessionRecord, session: { id: string; userId: string }): Promise<BindResult> => {
    if (record.data.boundUserId !== undefined && record.data.boundUserId !== session.userId) return 'not-yours'
    const now = clock()
    const owned: MCPSessionRecord = {
      ...record,
      data: { ...record.data, boundSessionId: session.id, boundUserId: session.userId, ownedVia: 'login' },
      version: 1,
      lastActiveAt: now,
      expiresAt: expiryFor(record.createdAt, now),
    }
    // Claimed in memory before the store write, so a concurrent login of another user in the same
    // MCP session finds the owner and is refused.
    if (!anonymous.replace(owned)) return 'missing'
    try {
      await guard('set', () => store.set(owned))
    } catch (error) {
      anonymous.replace(record)
      throw error
    }
    anonymous.take(record.id)
    return 'ok'
  }

  /** Rewrites a stored record's data with compare-and-set, retrying on concurrent changes. */
  const updateStored = async (id: string, change: (data: MCPSessionData) => MCPSessionData | BindResult): Promise<BindResult> => {
    let current = await getStored(id)
    for (let attempt = 0; attempt < MAX_BIND_ATTEMPTS; attempt++) {
      if (current === undefined) return 'missing'
      const data = change(current.data)
      if (typeof data === 'string') return data
      const now = clock()
      const record = current
      const result = await guard('update', () =>
        store.update(record.id, record.version, { data, lastActiveAt: now, expiresAt: expiryFor(record.createdAt, now) }),
      )
      if (result === 'ok') return 'ok'
      if (result === 'missing') return 'missing'
      current = await getStored(id)
    }
    throw new ConflictError('The MCP session kept changing concurrently; try again')
  }

  return {
    get,

    async create(owner, client) {
      const token = generateSessionToken()
      const id = storageIdOf(token)
      const now = clock()
      const data: MCPSessionData = { userId: id, kind: 'mcp-session' }
      if (owner !== undefined) {
        data.boundUserId = owner
        data.ownedVia = 'bearer'
      }
      if (client !== undefined) data.client = client
      const record: MCPSessionRecord = {
        id,
        userId: id,
        data,
        version: 1,
        createdAt: now,
        lastActiveAt: now,
        expiresAt: owner === undefined ? Math.min(now + options.anonymousIdleTimeout, now + absoluteTimeout) : expiryFor(now, now),
      }
      // Nobody is bound to an anonymous session: it costs no store write (it may be one of many).
      if (owner === undefined) anonymous.add(record)
      else await guard('set', () => store.set(record))
      return { token, record }
    },

    async load(token) {
      if (!isSessionTokenShape(token)) return undefined
      return get(storageIdOf(token))
    },

    async touch(record) {
      if (anonymous.get(record.id) !== undefined) {
        anonymous.touch(record.id)
        return
      }
      const now = clock()
      // Renewal is throttled so that a busy agent does not turn every request into a store write.
      if (now - record.lastActiveAt < renewalInterval) return
      await guard('touch', () => store.touch(record.id, now, expiryFor(record.createdAt, now)))
    },

    async bind(id, session) {
      const inMemory = anonymous.get(id)
      if (inMemory !== undefined) return promote(inMemory, session)
      return updateStored(id, (data) => {
        if (data.boundUserId !== undefined && data.boundUserId !== session.userId) return 'not-yours'
        return { ...data, boundSessionId: session.id, boundUserId: session.userId, ownedVia: data.ownedVia ?? 'login' }
      })
    },

    async unbind(id, reason) {
      if (anonymous.get(id) !== undefined) return
      await updateStored(id, (data) => {
        const { boundSessionId: _bound, ...rest } = data
        if (reason === 'logout' && rest.ownedVia === 'login') {
          const { boundUserId: _owner, ownedVia: _via, ...released } = rest
          return released
        }
        return rest
      })
    },

    async delete(id, reason) {
      if (anonymous.delete(id)) return true
      return guard('delete', () => store.delete(id, reason))
    },

    sweepAnonymous() {
      return anonymous.sweep()
    },

    get anonymousCount() {
      return anonymous.size
    },

    subscribe(listener) {
      return store.subscribe(listener)
    },
  }
}
