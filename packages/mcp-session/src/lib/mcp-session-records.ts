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
  type SessionDeleteReason,
  type SessionEventListener,
  type SessionRecord,
  type SessionStore,
} from '@pikku/core'

/** What is stored for one MCP session: a small record in the app's session store. */
export interface MCPSessionData extends CoreUserSession {
  /** A per-MCP-session owner key (`mcp:…`), never a real user id: see `storageIdOf`. */
  userId: string
  kind: 'mcp-session'
  /** Storage id of the user session the `login` tool started in this MCP session. */
  boundSessionId?: string
  /**
   * The user this MCP session belongs to: the bearer token's user at initialize, or the user of
   * the latest in-band login. Another user's bearer token can neither use nor end the session.
   */
  boundUserId?: string
}

export type MCPSessionRecord = SessionRecord<MCPSessionData>

export interface MCPSessionRecordsOptions {
  store: SessionStore<CoreUserSession>
  idleTimeout: number
  absoluteTimeout: number
  renewalInterval: number
  clock: Clock
  logger: Logger
}

export interface MCPSessionRecords {
  /** Starts an MCP session, owned by `userId` when given; `token` is the `Mcp-Session-Id`. */
  create(userId?: string): Promise<{ token: string; record: MCPSessionRecord }>
  /** The live MCP session for an `Mcp-Session-Id`, or undefined (unknown, expired, deleted). */
  load(token: string): Promise<MCPSessionRecord | undefined>
  /** Renews the idle timer when the last renewal is older than the renewal interval. */
  touch(record: MCPSessionRecord): Promise<void>
  /**
   * Binds the user session started in this MCP session (and makes its user the owner), or, with
   * undefined, unbinds it; the owner stays.
   */
  bind(id: string, session: { id: string; userId: string } | undefined): Promise<'ok' | 'missing'>
  /** Ends an MCP session; true when a live one was removed. */
  delete(id: string, reason: SessionDeleteReason): Promise<boolean>
  /** The stored record by storage id, expired ones excluded. */
  get(id: string): Promise<MCPSessionRecord | undefined>
  isExpired(record: Pick<MCPSessionRecord, 'createdAt' | 'lastActiveAt' | 'expiresAt'>): boolean
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

  const guard = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      if (error instanceof PikkuError) throw error
      logger.error(`session store failed during MCP session ${operation}`, { error })
      throw new ServiceUnavailableError('The session store is unavailable; try again shortly', { cause: error })
    }
  }

  const expiryFor = (createdAt: number, lastActiveAt: number): number =>
    Math.min(lastActiveAt + idleTimeout, createdAt + absoluteTimeout)

  const isExpired = (record: Pick<MCPSessionRecord, 'createdAt' | 'lastActiveAt' | 'expiresAt'>): boolean => {
    const now = clock()
    return now >= record.expiresAt || now >= record.lastActiveAt + idleTimeout || now >= record.createdAt + absoluteTimeout
  }

  const get = async (id: string): Promise<MCPSessionRecord | undefined> => {
    const record = (await guard('get', () => store.get(id))) as MCPSessionRecord | undefined
    if (record === undefined || record.data.kind !== 'mcp-session') return undefined
    if (isExpired(record)) {
      await guard('delete', () => store.delete(id, 'expired'))
      return undefined
    }
    return record
  }

  return {
    isExpired,
    get,

    async create(owner) {
      const token = generateSessionToken()
      const id = storageIdOf(token)
      const now = clock()
      const record: MCPSessionRecord = {
        id,
        userId: id,
        data: owner === undefined ? { userId: id, kind: 'mcp-session' } : { userId: id, kind: 'mcp-session', boundUserId: owner },
        version: 1,
        createdAt: now,
        lastActiveAt: now,
        expiresAt: expiryFor(now, now),
      }
      await guard('set', () => store.set(record))
      return { token, record }
    },

    async load(token) {
      if (!isSessionTokenShape(token)) return undefined
      return get(storageIdOf(token))
    },

    async touch(record) {
      const now = clock()
      // Renewal is throttled so that a busy agent does not turn every request into a store write.
      if (now - record.lastActiveAt < renewalInterval) return
      await guard('touch', () => store.touch(record.id, now, expiryFor(record.createdAt, now)))
    },

    async bind(id, session) {
      let current = await get(id)
      for (let attempt = 0; attempt < MAX_BIND_ATTEMPTS; attempt++) {
        if (current === undefined) return 'missing'
        const now = clock()
        const { boundSessionId: _bound, ...rest } = current.data
        const data: MCPSessionData = session === undefined ? rest : { ...rest, boundSessionId: session.id, boundUserId: session.userId }
        const result = await guard('update', () =>
          store.update(current!.id, current!.version, { data, lastActiveAt: now, expiresAt: expiryFor(current!.createdAt, now) }),
        )
        if (result === 'ok') return 'ok'
        if (result === 'missing') return 'missing'
        current = await get(id)
      }
      throw new ConflictError('The MCP session kept changing concurrently; the login was not bound to it')
    },

    delete(id, reason) {
      return guard('delete', () => store.delete(id, reason))
    },

    subscribe(listener) {
      return store.subscribe(listener)
    },
  }
}
