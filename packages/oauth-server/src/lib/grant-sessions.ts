import { sessionMetadata, type CoreUserSession, type SessionManager, type SessionRecord, type SessionStore } from '@pikku/core'

/** Who a grant was given to, for an inventory label. */
export interface GrantClient {
  readonly clientId: string
  readonly clientName: string
}

/** What the server keeps of one grant, apart from user sessions. */
interface GrantBookkeeping extends CoreUserSession, GrantClient {
  /** The grant's session, once its first token was issued. */
  readonly sessionId?: string
  /** The approving user's session data, kept until the first token starts the grant's session. */
  readonly user?: CoreUserSession
}

/** Approvals are redeemed within the code's lifetime (60 s); kept a little longer than that. */
const PENDING_MS = 10 * 60 * 1000
const MAX_START_ATTEMPTS = 4

export interface GrantSessions<S extends CoreUserSession> {
  /** Remembers an approval: `user` approved `client`. No session exists until a token is issued. */
  approve(grantId: string, user: S, client: GrantClient): Promise<void>
  /**
   * The id of a grant's session, starting it (a login of the approving user through the session
   * manager) when the grant's first token is issued. Undefined for an unknown grant.
   */
  sessionIdOf(grantId: string): Promise<string | undefined>
  /**
   * The user a grant belongs to, as the app's session data: the approving session's until the
   * first token, then the grant's own session's. Undefined once that session has ended.
   */
  userOf(grantId: string): Promise<S | undefined>
  /** The client a grant session was given to, by session id. */
  clientOfSession(sessionId: string): Promise<GrantClient | undefined>
  /** Ends a grant's session (the provider revoked the grant). */
  end(grantId: string): Promise<void>
}

/**
 * Each grant is one user session, minted by core's session manager like any login, so it is
 * listed, renewed, timed out and revoked by core; this module only remembers which session a grant
 * is (in the OAuth namespace, never among user sessions). The session starts when the client gets
 * its first token, so an approval whose code is never redeemed leaves no session behind. The
 * session's own token is never handed out: clients hold OAuth tokens, which name the grant, which
 * names the session.
 */
export function createGrantSessions<S extends CoreUserSession>(sessions: SessionManager<S>, store: SessionStore<GrantBookkeeping>): GrantSessions<S> {
  const grantKey = (grantId: string): string => `grant-session.${grantId}`
  const sessionKey = (sessionId: string): string => `session-grant.${sessionId}`
  const record = (id: string, data: Omit<GrantBookkeeping, 'userId'>, createdAt: number, expiresAt: number): SessionRecord<GrantBookkeeping> => ({
    id,
    userId: id,
    data: { userId: id, ...data },
    version: 1,
    createdAt,
    lastActiveAt: createdAt,
    expiresAt,
  })

  const start = async (grantId: string): Promise<string | undefined> => {
    for (let attempt = 0; attempt < MAX_START_ATTEMPTS; attempt++) {
      const current = await store.get(grantKey(grantId))
      if (current === undefined) return undefined
      if (current.data.sessionId !== undefined) return current.data.sessionId
      const user = current.data.user
      if (user === undefined) return undefined
      const state = sessions.createState()
      await state.set(user as S, { login: true })
      // Listed among the user's sessions under the name the client registered with.
      const label = current.data.clientName === '' ? current.data.clientId : current.data.clientName
      const result = await sessions.commit(state, { metadata: sessionMetadata('mcp', 'oauth', { label }) })
      if (result.kind !== 'created') throw new Error(`starting a grant session did not create a session (${result.kind})`)
      const session = result.record
      // As long as the session could live; the session's own expiry is checked on every use.
      const expiresAt = session.createdAt + sessions.absoluteTimeout
      const client = { clientId: current.data.clientId, clientName: current.data.clientName }
      // Compare-and-set: of two servers issuing the grant's first tokens at once, one session wins
      // and the other is ended.
      const written = await store.update(grantKey(grantId), current.version, {
        data: { userId: current.data.userId, ...client, sessionId: session.id },
        lastActiveAt: session.createdAt,
        expiresAt,
      })
      if (written !== 'ok') {
        await sessions.revoke(session.id, { reason: 'superseded' })
        continue
      }
      await store.set(record(sessionKey(session.id), { ...client, sessionId: session.id }, session.createdAt, expiresAt))
      return session.id
    }
    throw new Error('the grant kept changing while its session was started')
  }

  return {
    async approve(grantId, user, client) {
      const now = sessions.clock()
      await store.set(record(grantKey(grantId), { ...client, user }, now, now + PENDING_MS))
    },

    sessionIdOf: start,

    async userOf(grantId) {
      const current = await store.get(grantKey(grantId))
      if (current === undefined) return undefined
      if (current.data.user !== undefined) return current.data.user as S
      if (current.data.sessionId === undefined) return undefined
      return (await sessions.loadById(current.data.sessionId))?.data
    },

    async clientOfSession(sessionId) {
      const bookkeeping = await store.get(sessionKey(sessionId))
      return bookkeeping === undefined ? undefined : { clientId: bookkeeping.data.clientId, clientName: bookkeeping.data.clientName }
    },

    async end(grantId) {
      const bookkeeping = await store.get(grantKey(grantId))
      if (bookkeeping === undefined) return
      const sessionId = bookkeeping.data.sessionId
      if (sessionId !== undefined) await sessions.revoke(sessionId, { reason: 'grant-ended' })
      await store.delete(grantKey(grantId), 'revoked')
      if (sessionId !== undefined) await store.delete(sessionKey(sessionId), 'revoked')
    },
  }
}
