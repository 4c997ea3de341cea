import { describe, expect, it } from 'vitest'
import { BadRequestError } from './errors.js'
import { pikkuFunc, pikkuSessionlessFunc } from './function.js'
import { pikkuMiddleware, type PikkuMiddleware } from './middleware.js'
import { silentLogger } from './logger.js'
import { createRunner } from './runner.js'
import { SessionState } from './session-state.js'
import type { PikkuWire } from './wire.js'

describe('the runner', () => {
  it('layers per-call services over the app’s services for that call only', async () => {
    const services = { greeting: 'hello' }
    const runner = createRunner({
      services,
      logger: silentLogger,
      wireServices: (_services, wire) => ({ caller: wire.protocol }) as object,
    })
    const fn = pikkuSessionlessFunc<void, unknown>({
      func: async (callServices) => {
        const { greeting, caller } = callServices as { greeting: string; caller: string }
        return `${greeting} ${caller}`
      },
      auth: false,
    })
    const wire = (protocol: string): PikkuWire => ({ protocol, session: new SessionState() })
    expect(await runner.run(fn, undefined, wire('cli'))).toBe('hello cli')
    expect(await runner.run(fn, undefined, wire('mcp'))).toBe('hello mcp')
    expect(services).toEqual({ greeting: 'hello' })
  })

  describe('every way a function can return or fail, with and without middleware', () => {
    const passThrough = pikkuMiddleware(async (_services, _wire, next) => {
      await next()
    })
    const loadsAlice = pikkuMiddleware(async (_services, wire, next) => {
      wire.session.resumeTransient({ userId: 'alice' })
      await next()
    })
    const shapes: [string, (data: unknown) => unknown][] = [
      ['a plain value', (data) => ({ echoed: data })],
      ['a promise', async (data) => ({ echoed: data })],
      ['a thenable', (data) => ({ then: (resolve: (value: unknown) => void) => resolve({ echoed: data }) })],
    ]
    const stacks: [string, PikkuMiddleware[]][] = [
      ['no middleware', []],
      ['one middleware', [passThrough]],
      ['two middleware', [passThrough, passThrough]],
    ]
    const wire = (): PikkuWire => ({ protocol: 'test', session: new SessionState() })

    for (const [stackName, middleware] of stacks) {
      for (const [shapeName, func] of shapes) {
        it(`${stackName}, returning ${shapeName}`, async () => {
          const runner = createRunner({ services: {}, logger: silentLogger })
          const fn = pikkuSessionlessFunc<unknown, unknown>({ func: (_services, data) => func(data) as never, auth: false })
          expect(await runner.run(fn, 42, wire(), { middleware })).toEqual({ echoed: 42 })
        })
      }

      it(`${stackName}: a synchronous throw, a rejection and a non-Pikku error all reject as PikkuErrors`, async () => {
        const runner = createRunner({ services: {}, logger: silentLogger })
        const throwing = pikkuSessionlessFunc<void, never>({
          func: () => {
            throw new BadRequestError('sync')
          },
          auth: false,
        })
        const rejecting = pikkuSessionlessFunc<void, never>({ func: async () => Promise.reject(new BadRequestError('async')), auth: false })
        const crashing = pikkuSessionlessFunc<void, never>({
          func: () => {
            throw new Error('boom')
          },
          auth: false,
        })
        await expect(runner.run(throwing, undefined, wire(), { middleware })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: 'sync' })
        await expect(runner.run(rejecting, undefined, wire(), { middleware })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: 'async' })
        await expect(runner.run(crashing, undefined, wire(), { middleware })).rejects.toMatchObject({ code: 'INTERNAL' })
      })

      it(`${stackName}: a function that needs a session is refused without one and runs with one loaded by middleware`, async () => {
        const runner = createRunner({ services: {}, logger: silentLogger })
        const whoAmI = pikkuFunc<void, string>({ func: async (_services, _data, { session }) => (await session.get()).userId })
        await expect(runner.run(whoAmI, undefined, wire(), { middleware })).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
        expect(await runner.run(whoAmI, undefined, wire(), { middleware: [loadsAlice, ...middleware] })).toBe('alice')
      })
    }
  })

  it('refuses to be created without services', () => {
    expect(() => createRunner({} as never)).toThrow(/needs \{ services \}/)
  })
})
