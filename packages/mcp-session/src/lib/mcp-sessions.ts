import { randomUUID } from 'node:crypto'
import {
  type Clock,
  type CoreUserSession,
  createSessionManager,
  type Logger,
  type SessionEventListener,
  type SessionManager,
  type SessionRecord,
  type SessionStore,
} from '@pikku/core'
import {
  createNamespacedStore,
  hashSessionToken,
  isSessionTokenShape,
  type SessionLifetime,
  type SessionState,
} from '@pikku/core/protocol'
import { type AnonymousEntry, createAnonymousSessions } from './anonymous-sessions.js'

/** The store namespace of MCP sessions: their records never appear among user sessions. */
export const MCP_NAMESPACE = 'mcp'

/** What is stored for one MCP session: a small record in the `mcp` namespace of the session store. */
export interface MCPSessionData extends CoreUserSession {
  /**
   * The record's key in the store's per-owner index, a random key of this MCP session's own: an
   * MCP session is not a user's session (its owner is `boundUserId`, which can change), and in
   * its namespace no user listing or "log out everywhere" reaches it.
   */
  userId: string
  kind: 'mcp-session'
  /** Storage id of the user session the `login` tool started in this MCP session. */
  boundSessionId?: string
  /**
   * The user this MCP session belongs to: the user of the credential sent with initialize, or the
   * user of the in-band login. Every later request must present this user's credential.
   */
  boundUserId?: string
  /**
   * How the owner was set: `bearer` (a credential sent with initialize, whatever its kind: the MCP
   * session stays theirs) or `login` (the in-band login: the owner's own logout in this MCP
   * session releases it).
   */
  ownedVia?: 'bearer' | 'login'
  /** The client's label from initialize (`clientInfo` name/version), for `wire.client.label`. */
  client?: string
}

/**
 * One live MCP session as a request sees it: its id in the `mcp` namespace, its data, and its
 * stored record (undefined while it is anonymous and kept in this process's memory).
 */
export interface MCPSession {
  readonly id: string
  readonly data: MCPSessionData
  readonly record: SessionRecord<MCPSessionData> | undefined
}

/** Why an in-band login could not be bound to the MCP session. */
export type BindResult = 'ok' | 'missing' | 'not-yours'

export interface MCPSessionsOptions {
  /** The session store; MCP sessions live in its `mcp` namespace. */
  store: SessionStore<CoreUserSession>
  /** Lifetime of stored (owned) MCP sessions. */
  lifetime: SessionLifetime
  /** The most anonymous MCP sessions kept in memory. */
  maxAnonymous: number
  /** Lifetime of anonymous MCP sessions (a shorter idle timeout). */
  anonymousLifetime: SessionLifetime
  /** An anonymous MCP session left memory (evicted, idle, expired): end what was served for it. */
  onAnonymousEvicted: (id: string) => void
  clock: Clock
  logger: Logger
}

/** MCP sessions: stored ones through core's session manager, anonymous ones in memory. */
export interface MCPSessions {
  /**
   * Starts an MCP session, owned by `owner` when given (the user of a credential sent with
   * initialize): such a session is stored; an anonymous one is kept in this process's memory
   * only. `token` is the `Mcp-Session-Id`.
   */
  create(owner: string | undefined, client: string | undefined): Promise<{ token: string; session: MCPSession }>
  /** The live MCP session for an `Mcp-Session-Id`, or undefined (unknown, expired, deleted). */
  load(token: string): Promise<MCPSession | undefined>
  /** The live MCP session by id (memory or store), expired ones excluded. */
  get(id: string): Promise<MCPSession | undefined>
  /** A use: renews the idle timer (in the store only when the renewal is due). */
  touch(session: MCPSession): Promise<void>
  /**
   * Binds the user session an in-band login started in this MCP session and makes its user the
   * owner; an anonymous session moves to the store now. `not-yours` when another user owns it,
   * decided on the very data the write replaces.
   */
  bind(session: MCPSession, user: { readonly id: string; readonly userId: string }): Promise<BindResult>
  /**
   * Forgets the bound user session `ended` (when it is still the bound one). With `logout` (the
   * owner left by their own logout in this MCP session), an owner set by in-band login is released
   * too: the MCP session is anonymous again. A credential's ownership from initialize stays.
   */
  unbind(id: string, ended: string, reason: 'logout' | 'ended'): Promise<void>
  /** Ends an MCP session (DELETE). */
  end(session: MCPSession): Promise<void>
  /** Evicts idle anonymous sessions; returns how many. */
  sweepAnonymous(): number
  /** Anonymous MCP sessions in memory. */
  readonly anonymousCount: number
  /** Deletions and changes of MCP sessions made by any process sharing the store. */
  subscribe(listener: SessionEventListener): () => void
}

/** An anonymous MCP session: a session state with a minted, never persisted id (its token is the `Mcp-Session-Id`). */
interface AnonymousSession extends AnonymousEntry {
  readonly state: SessionState<MCPSessionData>
}

/** Thrown inside a commit's precondition: another user owns the MCP session. */
class OwnedByAnother extends Error {}
/** Thrown inside a commit's precondition: the user session to unbind is no longer the bound one. */
class NoLongerBound extends Error {}

/**
 * The storage id of an `Mcp-Session-Id` in the underlying store (`mcp:<SHA-256 of the id>`). An
 * id presented as a cookie or bearer token finds nothing: user-session ids never contain ':'.
 */
export function mcpSessionStorageId(token: string): string {
  return `${MCP_NAMESPACE}:${hashSessionToken(token)}`
}

export function createMCPSessions(options: MCPSessionsOptions): MCPSessions {
  const { clock } = options
  // Core's session manager with the MCP lifetime over the `mcp` view of the store: expiry, renewal,
  // store-failure mapping and compare-and-set retries are its rules, not re-derived here.
  const manager: SessionManager<MCPSessionData> = createSessionManager<MCPSessionData>({
    store: createNamespacedStore<MCPSessionData>(options.store, MCP_NAMESPACE),
    idleTimeout: options.lifetime.idleTimeout,
    absoluteTimeout: options.lifetime.absoluteTimeout,
    renewalInterval: options.lifetime.renewalInterval,
    clock,
    logger: options.logger,
  })
  const anonymous = createAnonymousSessions<AnonymousSession>({
    max: options.maxAnonymous,
    lifetime: options.anonymousLifetime,
    clock,
    onEvict: options.onAnonymousEvicted,
  })
  // In-band logins being bound to an anonymous session, so that a second one waits for the first
  // and then meets its owner (one process holds an anonymous session: no store race).
  const promoting = new Map<string, Promise<void>>()

  const stored = (record: SessionRecord<MCPSessionData>): MCPSession => ({ id: record.id, data: record.data, record })
  const inMemory = (entry: AnonymousSession): MCPSession => ({ id: entry.id, data: entry.state.current as MCPSessionData, record: undefined })

  const get = async (id: string): Promise<MCPSession | undefined> => {
    const entry = anonymous.get(id)
    if (entry !== undefined) return inMemory(entry)
    const record = await manager.loadById(id)
    return record === undefined ? undefined : stored(record)
  }

  /** Moves an anonymous session to the store, its in-band login's user its owner. */
  const promote = async (entry: AnonymousSession, user: { id: string; userId: string }): Promise<void> => {
    const { state } = entry
    await state.update({ boundSessionId: user.id, boundUserId: user.userId, ownedVia: 'login' })
    try {
      // The minted id and token are the ones the client holds: the login's commit stores them.
      await manager.commit(state)
    } catch (error) {
      await state.update({ boundSessionId: undefined, boundUserId: undefined, ownedVia: undefined })
      throw error
    }
    anonymous.take(entry.id)
  }

  const bind = async (session: MCPSession, user: { id: string; userId: string }): Promise<BindResult> => {
    const pending = promoting.get(session.id)
    if (pending !== undefined) {
      await pending.catch(() => undefined)
      return bind({ ...session, record: undefined }, user)
    }
    const entry = anonymous.get(session.id)
    if (entry !== undefined) {
      const promotion = promote(entry, user).finally(() => promoting.delete(session.id))
      promoting.set(session.id, promotion)
      await promotion
      return 'ok'
    }
    const record = session.record ?? (await manager.loadById(session.id))
    return record === undefined ? 'missing' : bindStored(manager, record, user)
  }

  return {
    get,

    async create(owner, client) {
      const data: MCPSessionData = { userId: randomUUID(), kind: 'mcp-session' }
      if (owner !== undefined) {
        data.boundUserId = owner
        data.ownedVia = 'bearer'
      }
      if (client !== undefined) data.client = client
      const state = manager.createState()
      // A login mints the id and token (256 random bits; the store sees only the hash).
      await state.set(data, { login: true })
      const minted = state.pending!
      if (owner !== undefined) {
        const result = await manager.commit(state)
        if (result.kind !== 'created') throw new Error(`storing a new MCP session answered ${result.kind}`)
        return { token: result.token, session: stored(result.record as SessionRecord<MCPSessionData>) }
      }
      // Nobody is bound to an anonymous session: it costs no store write (it may be one of many).
      const now = clock()
      const entry: AnonymousSession = { id: minted.id, state, createdAt: now, lastActiveAt: now }
      anonymous.add(entry)
      return { token: minted.token, session: inMemory(entry) }
    },

    async load(token) {
      if (!isSessionTokenShape(token)) return undefined
      return get(hashSessionToken(token))
    },

    async touch(session) {
      if (session.record === undefined) {
        anonymous.touch(session.id)
        return
      }
      const state = manager.createState(session.record)
      // Renewal is throttled so that a busy agent does not turn every request into a store write.
      if (manager.needsCommit(state)) await manager.commit(state)
    },

    bind,

    async unbind(id, ended, reason) {
      // An anonymous session has nothing bound.
      if (anonymous.get(id) !== undefined) return
      const record = await manager.loadById(id)
      if (record !== undefined) await unbindStored(manager, record, ended, reason)
    },

    async end(session) {
      if (anonymous.delete(session.id)) return
      const record = session.record ?? (await manager.loadById(session.id))
      if (record === undefined) return
      const state = manager.createState(record)
      await state.clear()
      await manager.commit(state)
    },

    sweepAnonymous() {
      return anonymous.sweep()
    },

    get anonymousCount() {
      return anonymous.size
    },

    subscribe(listener) {
      return manager.subscribe(listener)
    },
  }
}

/** Binds an in-band login to a stored MCP session: a compare-and-set core retries, the owner checked each time. */
async function bindStored(
  manager: SessionManager<MCPSessionData>,
  record: SessionRecord<MCPSessionData>,
  user: { readonly id: string; readonly userId: string },
): Promise<BindResult> {
  const state = manager.createState(record)
  await state.update({ boundSessionId: user.id, boundUserId: user.userId, ownedVia: record.data.ownedVia ?? 'login' })
  try {
    const result = await manager.commit(state, {
      // Two logins of different users racing in a released session: the second finds the first's owner.
      precondition: (data) => {
        if (data.boundUserId !== undefined && data.boundUserId !== user.userId) throw new OwnedByAnother()
      },
    })
    return result.kind === 'revoked' ? 'missing' : 'ok'
  } catch (error) {
    if (error instanceof OwnedByAnother) return 'not-yours'
    throw error
  }
}

/** Forgets the ended user session of a stored MCP session (and, on its owner's logout, an in-band owner). */
async function unbindStored(
  manager: SessionManager<MCPSessionData>,
  record: SessionRecord<MCPSessionData>,
  ended: string,
  reason: 'logout' | 'ended',
): Promise<void> {
  const state = manager.createState(record)
  const released = reason === 'logout' && record.data.ownedVia === 'login'
  await state.update(released ? { boundSessionId: undefined, boundUserId: undefined, ownedVia: undefined } : { boundSessionId: undefined })
  try {
    await manager.commit(state, {
      precondition: (data) => {
        // A newer login was bound meanwhile: it is not this one to forget.
        if (data.boundSessionId !== undefined && data.boundSessionId !== ended) throw new NoLongerBound()
      },
    })
  } catch (error) {
    if (!(error instanceof NoLongerBound)) throw error
  }
}
