import { describe, expect, it } from 'vitest'
import { ForbiddenError } from './errors.js'
import { pikkuFunc, pikkuSessionlessFunc } from './function.js'
import { createMemoryStore } from './memory-store.js'
import { pikkuMiddleware, type PikkuMiddleware } from './middleware.js'
import { silentLogger } from './logger.js'
import { createRunner } from './runner.js'
import { createSessionManager } from './session-manager.js'
import { SessionState } from './session-state.js'
import { createTestClock } from './test-clock.js'
import type { PikkuWire } from './wire.js'

function anonymousWire(): PikkuWire {
  return { protocol: 'test', session: new SessionState() }
}

/** A middleware that logs its name before and after the rest of the call. */
function tracing(name: string, trace: string[]): PikkuMiddleware {
  return pikkuMiddleware(async (_services, _wire, next) => {
    trace.push(`${name}:before`)
    await next()
    trace.push(`${name}:after`)
  })
}

describe('middleware', () => {
  it('runs in onion order: protocol, then global, then the function’s own, around the function', async () => {
    const trace: string[] = []
    const runner = createRunner({ services: {}, logger: silentLogger, middleware: [tracing('global1', trace), tracing('global2', trace)] })
    const fn = pikkuSessionlessFunc<void, void>({
      func: async () => {
        trace.push('func')
      },
      auth: false,
      middleware: [tracing('fn1', trace), tracing('fn2', trace)],
    })
    await runner.run(fn, undefined, anonymousWire(), { middleware: [tracing('protocol', trace)] })
    expect(trace).toEqual([
      'protocol:before',
      'global1:before',
      'global2:before',
      'fn1:before',
      'fn2:before',
      'func',
      'fn2:after',
      'fn1:after',
      'global2:after',
      'global1:after',
      'protocol:after',
    ])
  })

  it('a session set by one middleware is what the next middleware and the function see', async () => {
    const seen: (string | undefined)[] = []
    const signIn = pikkuMiddleware(async (_services, wire, next) => {
      if ((await wire.session.get()) === undefined) await wire.session.set({ userId: 'alice' })
      await next()
    })
    // "Skip if already authenticated" must see the earlier middleware's session.
    const secondStrategy = pikkuMiddleware(async (_services, wire, next) => {
      const current = await wire.session.get()
      seen.push(current?.userId)
      if (current === undefined) await wire.session.set({ userId: 'mallory' })
      await next()
    })
    const runner = createRunner({ services: {}, logger: silentLogger, middleware: [signIn, secondStrategy] })
    const fn = pikkuFunc<void, string>({ func: async (_services, _data, { session }) => (await session.get()).userId })
    expect(await runner.run(fn, undefined, anonymousWire())).toBe('alice')
    expect(seen).toEqual(['alice'])
  })

  it('a session loaded by middleware satisfies a pikkuFunc’s need for one', async () => {
    const load = pikkuMiddleware(async (_services, wire, next) => {
      wire.session.resumeTransient({ userId: 'alice' })
      await next()
    })
    const runner = createRunner({ services: {}, logger: silentLogger })
    const fn = pikkuFunc<void, string>({ func: async (_services, _data, { session }) => (await session.get()).userId, middleware: [load] })
    expect(await runner.run(fn, undefined, anonymousWire())).toBe('alice')
  })

  it('a set() in middleware is persisted exactly like one in the function', async () => {
    const clock = createTestClock()
    const store = createMemoryStore<{ userId: string; theme?: string }>({ clock: clock.now, sweepInterval: 0 })
    const manager = createSessionManager({ store, clock: clock.now })
    const runner = createRunner({ services: {}, logger: silentLogger })
    const persist = pikkuMiddleware(async (_services, wire, next) => {
      await next()
      await manager.commit(wire.session)
    })
    const setInMiddleware = pikkuMiddleware(async (_services, wire, next) => {
      await wire.session.set({ userId: 'alice', theme: 'dark' } as { userId: string })
      await next()
    })
    const inMiddleware = pikkuSessionlessFunc<void, void>({ func: async () => {}, auth: false, middleware: [setInMiddleware] })
    const inFunction = pikkuSessionlessFunc<void, void>({
      func: async (_services, _data, { session }) => session.set({ userId: 'alice', theme: 'dark' } as { userId: string }),
      auth: false,
    })
    for (const fn of [inMiddleware, inFunction]) {
      const wire = { protocol: 'test', session: manager.createState() } satisfies PikkuWire
      await runner.run(fn, undefined, wire, { middleware: [persist] })
      const sessionId = wire.session.sessionId
      expect(sessionId).toBeDefined()
      expect((await store.get(sessionId!))?.data).toEqual({ userId: 'alice', theme: 'dark' })
    }
    expect(await store.listByUser('alice')).toHaveLength(2)
  })

  it('calling next() twice is an error and the function runs once', async () => {
    let runs = 0
    const twice = pikkuMiddleware(async (_services, _wire, next) => {
      await next()
      await next()
    })
    const runner = createRunner({ services: {}, logger: silentLogger })
    const fn = pikkuSessionlessFunc<void, void>({
      func: async () => {
        runs++
      },
      auth: false,
      middleware: [twice],
    })
    await expect(runner.run(fn, undefined, anonymousWire())).rejects.toMatchObject({ code: 'INTERNAL' })
    expect(runs).toBe(1)
  })

  it('calling next() twice is an error in an outer middleware too', async () => {
    let runs = 0
    const twice = pikkuMiddleware(async (_services, _wire, next) => {
      await next()
      await next()
    })
    const passThrough = pikkuMiddleware(async (_services, _wire, next) => next())
    const logged: unknown[] = []
    const runner = createRunner({
      services: {},
      logger: { ...silentLogger, error: (_message, meta) => logged.push(meta?.['error']) },
      middleware: [passThrough],
    })
    const fn = pikkuSessionlessFunc<void, void>({
      func: async () => {
        runs++
      },
      auth: false,
    })
    await expect(runner.run(fn, undefined, anonymousWire(), { middleware: [twice] })).rejects.toMatchObject({ code: 'INTERNAL' })
    expect(runs).toBe(1)
    expect(String(logged[0])).toMatch(/next\(\) more than once/)
  })

  it('a middleware that is not async works, and one that throws synchronously fails the call like an async one', async () => {
    const trace: string[] = []
    const plain: PikkuMiddleware = (_services, _wire, next) => {
      trace.push('plain')
      return next()
    }
    const throwing: PikkuMiddleware = () => {
      throw new ForbiddenError('refused before next()')
    }
    const runner = createRunner({ services: {}, logger: silentLogger })
    const fn = pikkuSessionlessFunc<void, string>({ func: async () => 'ran', auth: false })
    expect(await runner.run(fn, undefined, anonymousWire(), { middleware: [plain] })).toBe('ran')
    expect(trace).toEqual(['plain'])
    await expect(runner.run(fn, undefined, anonymousWire(), { middleware: [plain, throwing] })).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(trace).toEqual(['plain', 'plain'])
  })

  it('a middleware that never calls next() ends the call without running the function', async () => {
    let runs = 0
    const stop: PikkuMiddleware = () => undefined
    const runner = createRunner({ services: {}, logger: silentLogger })
    const fn = pikkuSessionlessFunc<void, void>({ func: async () => void runs++, auth: false })
    await runner.run(fn, undefined, anonymousWire(), { middleware: [stop] })
    expect(runs).toBe(0)
  })

  it('pikkuMiddleware refuses something that is not a function, when declared', () => {
    expect(() => pikkuMiddleware('nope' as never)).toThrow(/takes a function/)
  })
})
