import type { CoreUserSession, SessionManager, SessionRecord, SessionStore } from '@pikku/core'

/** What the server keeps of one grant, apart from user sessions. */
interface GrantBookkeeping extends CoreUserSession {
  readonly sessionId: string
  readonly clientId: string
  readonly clientName: string
}

/** Who a grant was given to, for an inventory label. */
export interface GrantClient {
  readonly clientId: string
  readonly clientName: string
}

export interface GrantSessions<S extends CoreUserSession> {
  /** Starts the user session a new grant is: a login of `user` through the session manager. */
  start(grantId: string, user: S, client: GrantClient): Promise<SessionRecord<S>>
  /** The id of a grant's session, or undefined when the grant is unknown. */
  sessionIdOf(grantId: string): Promise<string | undefined>
  /** The client a grant session was given to, by session id. */
  clientOfSession(sessionId: string): Promise<GrantClient | undefined>
  /** Ends a grant's session (the provider revoked the grant). */
  end(grantId: string): Promise<void>
}

/**
 * Each grant is one user session, minted by core's session manager like any login, so it is
 * listed, renewed, timed out and revoked by core; this module only remembers which session a grant
 * is (in the OAuth namespace, never among user sessions). The session's token is never handed out:
 * clients hold OAuth tokens, which name the grant, which names the session.
 */
export function createGrantSessions<S extends CoreUserSession>(sessions: SessionManager<S>, store: SessionStore<GrantBookkeeping>): GrantSessions<S> {
  const grantKey = (grantId: string): string => `grant-session.${grantId}`
  const sessionKey = (sessionId: string): string => `session-grant.${sessionId}`
  const keep = async (id: string, data: Omit<GrantBookkeeping, 'userId'>, record: SessionRecord<S>): Promise<void> => {
    await store.set({
      id,
      userId: id,
      data: { userId: id, ...data },
      version: 1,
      createdAt: record.createdAt,
      lastActiveAt: record.createdAt,
      // As long as the session could live; the session's own expiry is checked on every use.
      expiresAt: record.createdAt + sessions.absoluteTimeout,
    })
  }

  return {
    async start(grantId, user, client) {
      const state = sessions.createState()
      await state.set(user, { login: true })
      const result = await sessions.commit(state)
      if (result.kind !== 'created') throw new Error(`starting a grant session did not create a session (${result.kind})`)
      const record = result.record as SessionRecord<S>
      const data = { sessionId: record.id, clientId: client.clientId, clientName: client.clientName }
      await keep(grantKey(grantId), data, record)
      await keep(sessionKey(record.id), data, record)
      return record
    },

    async sessionIdOf(grantId) {
      return (await store.get(grantKey(grantId)))?.data.sessionId
    },

    async clientOfSession(sessionId) {
      const bookkeeping = await store.get(sessionKey(sessionId))
      return bookkeeping === undefined ? undefined : { clientId: bookkeeping.data.clientId, clientName: bookkeeping.data.clientName }
    },

    async end(grantId) {
      const bookkeeping = await store.get(grantKey(grantId))
      if (bookkeeping === undefined) return
      await sessions.revoke(bookkeeping.data.sessionId)
      await store.delete(grantKey(grantId), 'revoked')
      await store.delete(sessionKey(bookkeeping.data.sessionId), 'revoked')
    },
  }
}
