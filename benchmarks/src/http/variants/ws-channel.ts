import { createServer } from 'node:http'
import { createChannelServer, wireChannel, type ChannelConnection } from '@pikku/channel'
import { createMemoryStore, createRunner, createSessionManager, silentLogger } from '@pikku/core'
import { createHTTPHandler, toNodeListener, wireHTTP } from '@pikku/http'
import { createChannelSessions } from '@pikku/middleware-channel-session'
import { createHTTPSessions } from '@pikku/middleware-http-session'
import { newProfile, type Profile } from '../app.js'
import { closeServer, listenOn } from '../node-body.js'
import type { RunningVariant } from '../variant.js'
import { login, profile } from './pikku-app.js'

/**
 * HTTP (for POST /login) and a channel at /ws on one port. With `sessions`, connections get their
 * session from the cookie at the upgrade through the channel session handler; without, each
 * connection gets an in-memory session in `onConnect` and no session handler runs per message.
 */
export function startChannel(withSessionMiddleware: boolean): RunningVariant {
  const store = createMemoryStore<Profile>()
  const sessions = createSessionManager<Profile>({ store })
  const httpSessions = createHTTPSessions({ sessions, logger: silentLogger, cookie: { secure: false } })
  const runner = createRunner({ services: {}, logger: silentLogger })
  const handler = createHTTPHandler({
    runner,
    middleware: [httpSessions.middleware],
    routes: [wireHTTP({ method: 'POST', route: '/login', func: login }), wireHTTP({ method: 'GET', route: '/profile', func: profile })],
  })
  const server = createServer(toNodeListener(handler))
  const channelSessions = withSessionMiddleware ? createChannelSessions({ sessions, authenticator: httpSessions.authenticator, logger: silentLogger }) : undefined
  const channels = createChannelServer({
    runner,
    logger: silentLogger,
    channels: [
      wireChannel({
        route: '/ws',
        functions: { getProfile: profile },
        ...(channelSessions === undefined
          ? { onConnect: (connection: ChannelConnection) => connection.session.resumeTransient(newProfile('ws-user')) }
          : { session: channelSessions }),
      }),
    ],
  })
  channels.attach(server)
  return {
    listen: (host) => listenOn(server, host),
    async close() {
      await channels.close()
      channelSessions?.close()
      await closeServer(server)
      await store.close?.()
    },
  }
}
