import type { Server } from 'node:http'
import { createChannelServer, wireChannel, type ChannelServer } from '@pikku/channel'
import { createChannelSessions, type ChannelSessions, type ChannelSessionTimers } from '@pikku/middleware-channel-session'
import type { DemoApp } from './app.js'

/** The demo's WebSocket endpoint: `ws://<host>:<port>/ws`, on the same port as HTTP. */
export const CHANNEL_ROUTE = '/ws'

export interface DemoChannel {
  readonly channels: ChannelServer
  readonly sessions: ChannelSessions
  /** Closes every socket (1001), stops listening to revocation events and detaches from the server. */
  close(): Promise<void>
}

/**
 * Serves the demo's five functions over a WebSocket channel on the HTTP server's port. A browser
 * logged in over HTTP is logged in on its socket (same cookie, same store); other clients offer
 * the bearer token from `login` as the subprotocol `pikku.bearer.<token>`, or log in over the
 * socket itself.
 */
export function attachChannel(server: Server, app: DemoApp, options: { timers?: ChannelSessionTimers } = {}): DemoChannel {
  const sessions = createChannelSessions({
    sessions: app.sessions,
    authenticator: app.httpSessions.authenticator,
    allowedOrigins: app.allowedOrigins,
    logger: app.logger,
    ...(options.timers === undefined ? {} : { timers: options.timers }),
  })
  const channels = createChannelServer({
    runner: app.runner,
    channels: [wireChannel({ route: CHANNEL_ROUTE, functions: app.functions, session: sessions })],
  })
  const detach = channels.attach(server)
  return {
    channels,
    sessions,
    async close() {
      detach()
      await channels.close()
      sessions.close()
    },
  }
}
