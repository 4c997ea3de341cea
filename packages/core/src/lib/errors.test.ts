import { describe, expect, it } from 'vitest'
import { toPikkuError, toPublicError } from './public-error.js'
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  InternalServerError,
  NotFoundError,
  PayloadTooLargeError,
  PikkuError,
  type PikkuErrorCode,
  ServiceUnavailableError,
  STORE_UNAVAILABLE_MESSAGE,
  TooManyRequestsError,
  UnauthorizedError,
} from './errors.js'
import { pikkuFunc, pikkuSessionlessFunc } from './function.js'
import type { LogMeta, Logger } from './logger.js'
import { createMemoryStore } from './memory-store.js'
import { createRunner } from './runner.js'
import { createSessionManager } from './session-manager.js'
import { SessionState } from './session-state.js'
import { createTokenProtocol } from './token-protocol.test-support.js'

function capturingLogger() {
  const errors: { message: string; meta: LogMeta | undefined }[] = []
  const logger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: (message, meta) => errors.push({ message, meta }) }
  return { logger, errors }
}

describe('errors', () => {
  it('each error class carries its stable code and its own name', () => {
    const cases: [PikkuError, PikkuErrorCode, string][] = [
      [new BadRequestError(), 'BAD_REQUEST', 'BadRequestError'],
      [new UnauthorizedError(), 'UNAUTHORIZED', 'UnauthorizedError'],
      [new ForbiddenError(), 'FORBIDDEN', 'ForbiddenError'],
      [new NotFoundError(), 'NOT_FOUND', 'NotFoundError'],
      [new ConflictError(), 'CONFLICT', 'ConflictError'],
      [new PayloadTooLargeError(), 'PAYLOAD_TOO_LARGE', 'PayloadTooLargeError'],
      [new TooManyRequestsError(), 'TOO_MANY_REQUESTS', 'TooManyRequestsError'],
      [new ServiceUnavailableError(), 'SERVICE_UNAVAILABLE', 'ServiceUnavailableError'],
      [new InternalServerError('id-1'), 'INTERNAL', 'InternalServerError'],
    ]
    for (const [error, code, name] of cases) {
      expect(error).toBeInstanceOf(PikkuError)
      expect(error).toBeInstanceOf(Error)
      expect(error.code).toBe(code)
      expect(error.name).toBe(name)
    }
  })

  it('a function throwing a non-Pikku error gives the caller a generic internal error with an id; the logger gets the detail under that id', async () => {
    const { logger, errors } = capturingLogger()
    const runner = createRunner({ services: {}, logger })
    const fn = pikkuSessionlessFunc<void, void>({
      func: async () => {
        throw new Error('password for db is hunter2')
      },
      auth: false,
    })
    const error = await runner.run(fn, undefined, { protocol: 'test', session: new SessionState() }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InternalServerError)
    const internal = error as InternalServerError
    expect(internal.message).toBe('Internal server error')
    expect(internal.errorId).toMatch(/^[0-9a-f-]{36}$/)
    expect(errors).toHaveLength(1)
    expect(errors[0]?.meta?.['errorId']).toBe(internal.errorId)
    expect(String(errors[0]?.meta?.['error'])).toContain('hunter2')
    expect(toPublicError(internal, logger)).toEqual({ code: 'INTERNAL', message: 'Internal server error', id: internal.errorId })
  })

  it('anything thrown, even a non-Error, becomes an internal error and nothing crashes', async () => {
    const { logger, errors } = capturingLogger()
    const runner = createRunner({ services: {}, logger })
    for (const thrown of ['a string', undefined, null, 42, { weird: true }]) {
      const fn = pikkuSessionlessFunc<void, void>({
        func: async () => {
          throw thrown
        },
        auth: false,
      })
      await expect(runner.run(fn, undefined, { protocol: 'test', session: new SessionState() })).rejects.toBeInstanceOf(InternalServerError)
    }
    expect(errors).toHaveLength(5)
  })

  it('a logger that throws does not change what the caller gets', async () => {
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: () => {
        throw new Error('log shipper down')
      },
    }
    const runner = createRunner({ services: {}, logger })
    const fn = pikkuSessionlessFunc<void, void>({
      func: async () => {
        throw new Error('boom')
      },
      auth: false,
    })
    const error = await runner.run(fn, undefined, { protocol: 'test', session: new SessionState() }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InternalServerError)
    expect(toPublicError(new Error('boom'), logger).code).toBe('INTERNAL')
  })

  it('a Pikku error reaches the caller as it was thrown, with its caller-safe details', async () => {
    const { logger, errors } = capturingLogger()
    const thrown = new NotFoundError('No such todo', { details: { id: 7 } })
    expect(toPikkuError(thrown, logger)).toBe(thrown)
    expect(toPublicError(thrown, logger)).toEqual({ code: 'NOT_FOUND', message: 'No such todo', details: { id: 7 } })
    expect(toPublicError(new ForbiddenError(), logger)).toEqual({ code: 'FORBIDDEN', message: 'Not allowed' })
    expect(errors).toEqual([])
  })

  it('a too-many-requests error tells every protocol when to retry, in whole seconds rounded up', () => {
    const { logger } = capturingLogger()
    const throttled = new TooManyRequestsError('Slow down', { retryAfter: 899.2 })
    expect(throttled.retryAfter).toBe(900)
    expect(toPublicError(throttled, logger)).toEqual({ code: 'TOO_MANY_REQUESTS', message: 'Slow down', details: { retryAfter: 900 } })
    // Without advice there is nothing to send; explicit details win over the generated ones.
    expect(new TooManyRequestsError().retryAfter).toBeUndefined()
    expect(toPublicError(new TooManyRequestsError(), logger)).toEqual({ code: 'TOO_MANY_REQUESTS', message: 'Too many requests' })
    expect(new TooManyRequestsError('x', { retryAfter: 5, details: { bucket: 'a' } }).details).toEqual({ bucket: 'a' })
  })

  it('a too-many-requests error with a negative or non-finite retryAfter is a programming mistake', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      expect(() => new TooManyRequestsError('x', { retryAfter: bad })).toThrow(/retryAfter must be a non-negative number of seconds/)
    }
  })

  it('toPublicError never leaks the message or cause of an internal error', () => {
    const { logger, errors } = capturingLogger()
    const secret = 'SELECT * FROM users -- secret'
    const inputs: unknown[] = [
      new Error(secret),
      new TypeError(secret),
      new PikkuError('INTERNAL', secret),
      new InternalServerError('given-id', { cause: new Error(secret) }),
      { message: secret },
      secret,
    ]
    for (const input of inputs) {
      const publicError = toPublicError(input, logger)
      expect(publicError.code).toBe('INTERNAL')
      expect(publicError.message).toBe('Internal server error')
      expect(typeof publicError.id).toBe('string')
      expect(JSON.stringify(publicError)).not.toContain('secret')
    }
    // Logged once per input except the one that already had an id.
    expect(errors).toHaveLength(inputs.length - 1)
    const loggedFor = errors.map((entry) => entry.meta?.['errorId'])
    expect(new Set(loggedFor).size).toBe(loggedFor.length)
  })

  it('a service-unavailable error reaches the caller as "the session store is unavailable" with an id; the driver message goes to the log under it', async () => {
    const { logger, errors } = capturingLogger()
    const secret = 'connect ECONNREFUSED redis://:hunter2@10.0.0.5:6379'
    const manager = createSessionManager({ store: { ...createMemoryStore({ sweepInterval: 0 }), get: () => Promise.reject(new Error(secret)) } })
    const runner = createRunner({ services: {}, logger })
    const call = createTokenProtocol(runner, manager)
    const whoAmI = pikkuFunc<void, string>({ func: async (_services, _data, { session }) => (await session.get()).userId })
    const { error } = await call(whoAmI, undefined, 'A'.repeat(43))
    expect(error).toBeInstanceOf(ServiceUnavailableError)
    const publicError = toPublicError(error, logger)
    expect(publicError).toEqual({ code: 'SERVICE_UNAVAILABLE', message: STORE_UNAVAILABLE_MESSAGE, id: expect.stringMatching(/^[0-9a-f-]{36}$/) })
    expect(JSON.stringify(publicError)).not.toContain('hunter2')
    // Logged once, by the runner, under the id the caller sees, with the driver's message.
    expect(errors).toHaveLength(1)
    expect(errors[0]?.meta?.['errorId']).toBe(publicError.id)
    const logged = errors[0]?.meta?.['error'] as Error
    expect(String(logged.message) + String((logged.cause as Error | undefined)?.message)).toContain('hunter2')
  })

  it("a store's own ServiceUnavailableError that quotes its driver reaches the caller with the fixed message and an id", async () => {
    const { logger, errors } = capturingLogger()
    const secret = 'WRONGPASS invalid username-password pair for user "app-secret"'
    const thrown = new ServiceUnavailableError(`The Redis session store is unavailable (${secret})`)
    const manager = createSessionManager({ store: { ...createMemoryStore({ sweepInterval: 0 }), get: () => Promise.reject(thrown) } })
    const call = createTokenProtocol(createRunner({ services: {}, logger }), manager)
    const whoAmI = pikkuFunc<void, string>({ func: async (_services, _data, { session }) => (await session.get()).userId })
    const { error } = await call(whoAmI, undefined, 'A'.repeat(43))
    const publicError = toPublicError(error, logger)
    expect(publicError).toEqual({ code: 'SERVICE_UNAVAILABLE', message: STORE_UNAVAILABLE_MESSAGE, id: expect.stringMatching(/^[0-9a-f-]{36}$/) })
    expect(JSON.stringify(publicError)).not.toContain('secret')
    expect(errors).toHaveLength(1)
    expect(errors[0]?.meta?.['errorId']).toBe(publicError.id)
    expect((errors[0]?.meta?.['error'] as Error).cause).toBe(thrown)
  })

  it("an app's own ServiceUnavailableError keeps its message and gains an id, logged once", () => {
    const { logger, errors } = capturingLogger()
    const cause = new Error('payments.example: 502 from upstream')
    const once = toPikkuError(new ServiceUnavailableError('Payments are unavailable; try again later', { cause }), logger)
    expect(once).toBeInstanceOf(ServiceUnavailableError)
    const id = (once as ServiceUnavailableError).errorId
    expect(toPublicError(once, logger)).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'Payments are unavailable; try again later', id })
    // Already given an id: the same error is neither replaced nor logged again.
    expect(toPikkuError(once, logger)).toBe(once)
    expect(errors).toHaveLength(1)
    expect(errors[0]?.meta?.['errorId']).toBe(id)
    expect(((errors[0]?.meta?.['error'] as Error).cause as Error).message).toContain('502 from upstream')
  })
})
