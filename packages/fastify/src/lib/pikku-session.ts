import {
  createConsoleLogger,
  PikkuError,
  type Logger,
  type Services,
  type UserSession,
  type UserSessionService,
} from '@pikku/core'
import { createRequestSessions, errorResponse, httpStatusOf, type HTTPSessionStrategy, type RequestSession } from '@pikku/http'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fastifyPlugin from 'fastify-plugin'
import { incomingFromFastify } from './fastify-request.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The user session, shared with the Pikku routes (added by the `pikkuSession` plugin). Changes
     * are stored once, after the route and before the response is sent; a route that fails
     * stores none.
     */
    readonly userSession: UserSessionService<UserSession>
  }
}

export interface PikkuSessionOptions {
  /**
   * The app's HTTP session strategy: the same `createHTTPSessions(…)` (or other strategy) whose
   * middleware the Pikku handler runs, so both see one session.
   */
  sessions: HTTPSessionStrategy
  /**
   * The services the strategy's middleware receives.
   * @default {} (the bundled strategies use none)
   */
  services?: Services
  /**
   * Where a commit that fails with a service-unavailable or unexpected error is logged, under the
   * id its response carries.
   * @default createConsoleLogger()
   */
  logger?: Logger
}

const OPENED = Symbol('pikku.requestSession')

type WithSession = FastifyRequest & { [OPENED]: RequestSession | null }

/** Gives a session operation's `PikkuError` the `statusCode` Fastify's error handling reads. */
function withStatusCode(error: unknown): never {
  if (error instanceof PikkuError && !('statusCode' in error)) Object.defineProperty(error, 'statusCode', { value: httpStatusOf(error.code) })
  throw error
}

/** The face a route sees: the operations, each error carrying its HTTP status. */
function routeFacing(session: RequestSession): UserSessionService<UserSession> {
  return {
    get: () => session.get().catch(withStatusCode),
    set: (value, options) => session.set(value, options).catch(withStatusCode),
    update: (patch) => session.update(patch).catch(withStatusCode),
    clear: () => session.clear().catch(withStatusCode),
    list: () => session.list().catch(withStatusCode),
    revoke: (handle) => session.revoke(handle).catch(withStatusCode),
    revokeOthers: () => session.revokeOthers().catch(withStatusCode),
  }
}

const plugin: FastifyPluginAsync<PikkuSessionOptions> = async function pikkuSession(instance, options) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('pikkuSession needs options: app.register(pikkuSession, { sessions: createHTTPSessions({ … }) })')
  }
  const sessions = createRequestSessions({ sessions: options.sessions, ...(options.services === undefined ? {} : { services: options.services }) })
  const logger = options.logger ?? createConsoleLogger()
  const faces = new WeakMap<RequestSession, UserSessionService<UserSession>>()
  instance.decorateRequest(OPENED, null)
  // A getter: nothing is allocated or read for a request whose route never asks.
  instance.decorateRequest('userSession', {
    getter(this: FastifyRequest) {
      const request = this as WithSession
      let session = request[OPENED]
      if (session === null) request[OPENED] = session = sessions.open(incomingFromFastify(this, ''))
      let face = faces.get(session)
      if (face === undefined) faces.set(session, (face = routeFacing(session)))
      return face
    },
  })
  instance.addHook('onError', async (request) => {
    // The route failed: what it changed is not stored, as for a Pikku function that throws.
    await (request as WithSession)[OPENED]?.discard()
  })
  instance.addHook('onSend', async (request, reply, payload) => {
    const session = (request as WithSession)[OPENED]
    if (session === null) return payload
    try {
      // Stored before the response is written: a client that follows a redirect finds the session.
      for (const [name, value] of await session.commit()) reply.header(name, value)
      return payload
    } catch (error) {
      // Refused or failed (403 cross-site, 413, 503): answered as a Pikku route answers it.
      const outgoing = errorResponse(error, logger)
      reply.code(outgoing.status)
      reply.removeHeader('location')
      for (const [name, value] of outgoing.headers) reply.header(name, value)
      return outgoing.body
    }
  })
}

/**
 * Gives every request of the app `request.userSession`: the same session the Pikku routes use, to
 * read in the app's own routes, or to start (`set(user, { login: true })`, an OAuth callback) or
 * end (`clear()`) without building a cookie. Not encapsulated, so every route sees it:
 * `await app.register(pikkuSession, { sessions: httpSessions })`.
 */
export const pikkuSession: FastifyPluginAsync<PikkuSessionOptions> = fastifyPlugin(plugin, { fastify: '5.x', name: '@pikku/fastify/session' })
