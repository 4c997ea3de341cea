import type { Logger, SessionManager, UserSession } from '@pikku/core'
import type { MCPSessions } from './mcp-sessions.js'

/** Something to close when its MCP session ends: the SDK transport of a request in flight. */
export interface Closable {
  close(): Promise<void>
}

/** What this process holds for one MCP session it has served. */
export interface ServedSession {
  /** The user session an in-band login bound to it, to revoke when the MCP session ends. */
  boundSessionId: string | undefined
  readonly transports: Set<Closable>
}

export interface ServedSessionsOptions {
  readonly mcpSessions: MCPSessions
  /** The app's user sessions: a bound one is revoked with its MCP session. */
  readonly sessions: SessionManager<UserSession>
  /** How often the sweep runs (ms); 0: only when `sweep()` is called. */
  readonly sweepInterval: number
  readonly logger: Logger
}

/**
 * The MCP sessions this process has served, and how they end here: a DELETE, an expiry found by
 * the sweep, a deletion on another process (a store event), or an anonymous session evicted from
 * memory. Ending one closes its transports in flight (each request gets an answer) and revokes
 * the user session it bound.
 */
export interface ServedSessions {
  /** The entry of an MCP session, created on first use. */
  entry(id: string): ServedSession
  /** The entry, when this process has one. */
  find(id: string): ServedSession | undefined
  /** Ends an MCP session here; `boundSessionId` when the caller knows it better than the entry. */
  end(id: string, boundSessionId?: string): Promise<void>
  /** Ends, in the background, an anonymous session that left memory; `sweep` waits for it. */
  endEvicted(id: string): void
  /** Ends the served sessions that no longer exist; returns how many (anonymous ones included). */
  sweep(): Promise<number>
  /** SDK transports currently open. */
  readonly openTransports: number
  /** Counts a transport opened for `entry` (undefined: no MCP session); returns the function that counts it closed. */
  opened(entry: ServedSession | undefined, transport: Closable): () => void
  /** Stops the timer and the store subscription, and closes every open transport. */
  close(): Promise<void>
}

export function createServedSessions(options: ServedSessionsOptions): ServedSessions {
  const { mcpSessions, sessions, logger } = options
  const served = new Map<string, ServedSession>()
  let openTransports = 0
  // Endings started outside a sweep (anonymous sessions evicted from memory), for sweep to await.
  const endings = new Set<Promise<void>>()

  const entry = (id: string): ServedSession => {
    let found = served.get(id)
    if (found === undefined) served.set(id, (found = { boundSessionId: undefined, transports: new Set() }))
    return found
  }

  const end = async (id: string, boundSessionId?: string): Promise<void> => {
    const found = served.get(id)
    served.delete(id)
    const bound = boundSessionId ?? found?.boundSessionId
    if (found !== undefined) {
      for (const transport of [...found.transports]) await transport.close().catch(() => undefined)
    }
    if (bound !== undefined) await sessions.revoke(bound)
  }

  const sweep = async (): Promise<number> => {
    let evicted = mcpSessions.sweepAnonymous()
    for (const [id, found] of [...served]) {
      const session = await mcpSessions.get(id)
      if (session === undefined) {
        await end(id, found.boundSessionId)
        evicted++
      } else {
        found.boundSessionId = session.data.boundSessionId
      }
    }
    await Promise.all([...endings])
    return evicted
  }

  let sweeping = false
  let resyncPending = false
  const sweepInBackground = (): void => {
    if (sweeping) return
    sweeping = true
    sweep()
      .catch((error: unknown) => logger.warn('sweeping idle MCP sessions failed', { error }))
      .finally(() => {
        sweeping = false
        if (resyncPending) {
          resyncPending = false
          sweepInBackground()
        }
      })
  }

  // A session deleted anywhere (DELETE on another process, the store's own expiry) ends here too.
  // After a resync, deletions sent while the store's events were down are lost: one sweep checks
  // every MCP session served here against the store, as the timer's sweep does.
  const unsubscribe = mcpSessions.subscribe((event) => {
    if (event.type === 'resync') {
      // A sweep already under way may have read some sessions before the gap ended: one more.
      if (sweeping) resyncPending = true
      else sweepInBackground()
      return
    }
    if (event.type !== 'deleted' || !served.has(event.id)) return
    end(event.id).catch((error: unknown) => logger.warn('ending an MCP session after a store event failed', { error }))
  })
  const timer = options.sweepInterval > 0 ? setInterval(sweepInBackground, options.sweepInterval) : undefined
  timer?.unref()

  return {
    entry,
    find: (id) => served.get(id),
    end,
    endEvicted(id) {
      const settled: Promise<void> = end(id)
        .catch((error: unknown) => logger.warn('ending an evicted MCP session failed', { error }))
        .finally(() => endings.delete(settled))
      endings.add(settled)
    },
    sweep,
    get openTransports() {
      return openTransports
    },
    opened(owner, transport) {
      owner?.transports.add(transport)
      openTransports++
      let counted = true
      return () => {
        if (!counted) return
        counted = false
        openTransports--
        owner?.transports.delete(transport)
      }
    },
    async close() {
      if (timer !== undefined) clearInterval(timer)
      unsubscribe()
      for (const found of served.values()) {
        for (const transport of [...found.transports]) await transport.close().catch(() => undefined)
      }
      served.clear()
    },
  }
}
