import type { AddressInfo } from 'node:net'
import { createChannelServer, wireChannel } from '@pikku/channel'
import { connectTestClient, type TestChannelClient } from '@pikku/channel/testing'
import {
  createRunner,
  noCredential,
  pikkuFunc,
  type SessionManager,
  type SessionStore,
  silentLogger,
  type UserSession,
} from '@pikku/core'
import { generateSessionToken, hashSessionToken } from '@pikku/core/store'
import { bearerSubprotocols, createChannelSessions } from '@pikku/middleware-channel-session'

// The socket side of the stores' "revocation while the event link is cut" tests: server A's
// sockets, and a login made through another server's store.

const MINUTE = 60_000

const whoAmI = pikkuFunc<void, UserSession>({ func: async (_services, _data, { session }) => session.get() })
/** Changes the session (stores `name` in it): a write through a socket. */
const rename = pikkuFunc<{ name: string }, void>({
  func: async (_services, data, { session }) => {
    await session.update({ name: data.name } as Partial<UserSession>)
  },
})

/**
 * A WebSocket server whose sessions come from the store by bearer token (the subprotocol token),
 * with two functions: `whoAmI` says who the caller is, `rename` (`{ name }`) changes the session.
 */
export async function startBearerSocketServer(sessions: SessionManager): Promise<{ connect(token: string): Promise<TestChannelClient>; close(): Promise<void> }> {
  const channelSessions = createChannelSessions({
    sessions,
    // Bearer tokens naming stored sessions, offered as the subprotocol token.
    authenticator: {
      async authenticate(input) {
        if (input.token === undefined) return noCredential()
        const record = await sessions.loadByToken(input.token)
        return record === undefined ? { outcome: 'refused', credential: 'bearer', reason: 'unknown-session' } : { outcome: 'stored', credential: 'bearer', record }
      },
    },
  })
  const channels = createChannelServer({
    runner: createRunner({ services: {}, logger: silentLogger }),
    channels: [wireChannel({ route: '/ws', functions: { whoAmI, rename }, session: channelSessions })],
    heartbeatInterval: 0,
  })
  const server = await channels.listen({ port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
  const clients: TestChannelClient[] = []
  return {
    async connect(token) {
      const client = await connectTestClient(url, { protocols: bearerSubprotocols(token) })
      clients.push(client)
      return client
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()))
      await channels.close({ timeout: 500 })
      channelSessions.close()
    },
  }
}

/** Stores a session for `userId` directly in `store`, as another server's login would; returns the token a client would hold. */
export async function logInThroughStore(store: SessionStore, userId: string): Promise<{ token: string; id: string }> {
  const token = generateSessionToken()
  const id = hashSessionToken(token)
  const now = Date.now()
  await store.set({ id, userId, data: { userId }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + 30 * MINUTE })
  return { token, id }
}
