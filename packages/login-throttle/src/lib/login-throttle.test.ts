import {
  type AnyPikkuFunction,
  BadRequestError,
  createRunner,
  type Logger,
  type PikkuFunction,
  type PikkuWire,
  pikkuMiddleware,
  pikkuSessionlessFunc,
  silentLogger,
  TooManyRequestsError,
  UnauthorizedError,
} from '@pikku/core'
import { SessionState } from '@pikku/core/protocol'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createLoginThrottle, type LoginThrottle } from './login-throttle.js'
import { createMemoryThrottleBackend } from './memory-backend.js'
import type { LoginThrottleOptions } from './throttle-options.js'
import type { ThrottleBackend } from './throttle-backend.js'

// The throttle around a real login function, run through core's runner as every protocol runs it.

type LoginInput = { email: string; password: string }

const PASSWORDS: Record<string, string> = { 'alice@example.com': 'alice-password', 'bob@example.com': 'bob-password' }

/** A login that counts how often it really checked a password. */
function makeLogin(): { login: PikkuFunction<LoginInput, { userId: string }>; checks: () => number } {
  let checks = 0
  const login = pikkuSessionlessFunc<LoginInput, { userId: string }>({
    name: 'login',
    input: z.object({ email: z.string(), password: z.string() }),
    func: async (_services, data) => {
      checks += 1
      if (data.password === 'crash') throw new Error('database exploded')
      if (PASSWORDS[data.email.toLowerCase()] !== data.password) throw new UnauthorizedError('Invalid credentials')
      return { userId: data.email.toLowerCase() }
    },
    docs: { summary: 'Log in', errors: ['UNAUTHORIZED'] },
  })
  return { login, checks: () => checks }
}

const runner = createRunner({ services: {}, logger: silentLogger })

function wireFrom(address?: string): PikkuWire {
  return address === undefined ? { protocol: 'cli', session: new SessionState() } : { protocol: 'http', session: new SessionState(), client: { address } }
}

let clock: TestClock
let backend: ThrottleBackend
beforeEach(() => {
  clock = createTestClock()
  backend = createMemoryThrottleBackend({ clock: clock.now })
})

function throttleWith(options: Partial<LoginThrottleOptions<LoginInput>> = {}): LoginThrottle<LoginInput> {
  return createLoginThrottle<LoginInput>({ accountKey: (data) => data.email, backend, logger: silentLogger, ...options })
}

async function attempt(fn: AnyPikkuFunction, email: string, password: string, address?: string): Promise<string> {
  try {
    await runner.run(fn, { email, password }, wireFrom(address))
    return 'ok'
  } catch (error) {
    return (error as { code: string }).code
  }
}

async function failTimes(fn: AnyPikkuFunction, times: number, email: string, address?: string): Promise<void> {
  for (let index = 0; index < times; index++) expect(await attempt(fn, email, 'wrong', address)).toBe('UNAUTHORIZED')
}

describe('login throttling per account', () => {
  it('after 5 wrong passwords the right one is refused for 15 minutes, without checking it', async () => {
    const { login, checks } = makeLogin()
    const protectedLogin = throttleWith().protect(login)
    await failTimes(protectedLogin, 5, 'alice@example.com', '198.51.100.1')
    const error = await runner.run(protectedLogin, { email: 'alice@example.com', password: 'alice-password' }, wireFrom('198.51.100.1')).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(TooManyRequestsError)
    expect(error).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfter: 900, message: 'Too many failed login attempts. Try again in 15 minutes.', details: { retryAfter: 900 } })
    expect(checks()).toBe(5)
    // From another address too: the limit is the account's.
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password', '203.0.113.9')).toBe('TOO_MANY_REQUESTS')
  })

  it('the window runs from the first failure: when it ends, the right password works again', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith().protect(login)
    await failTimes(protectedLogin, 5, 'alice@example.com')
    clock.advance(10 * 60_000)
    const error = (await runner.run(protectedLogin, { email: 'alice@example.com', password: 'alice-password' }, wireFrom()).catch((thrown: unknown) => thrown)) as TooManyRequestsError
    expect(error.retryAfter).toBe(300)
    expect(error.message).toBe('Too many failed login attempts. Try again in 5 minutes.')
    clock.advance(5 * 60_000)
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('ok')
  })

  it('a throttled login answers the same for an account that exists and one that does not', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith().protect(login)
    await failTimes(protectedLogin, 5, 'alice@example.com')
    await failTimes(protectedLogin, 5, 'nobody@example.com')
    const known = await runner.run(protectedLogin, { email: 'alice@example.com', password: 'x' }, wireFrom()).catch((error: unknown) => error)
    const unknown = await runner.run(protectedLogin, { email: 'nobody@example.com', password: 'x' }, wireFrom()).catch((error: unknown) => error)
    expect(unknown).toEqual(known)
    expect(JSON.stringify((unknown as TooManyRequestsError).details)).toBe(JSON.stringify((known as TooManyRequestsError).details))
  })

  it('spellings of one email share a count (case, Unicode width, spaces)', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith().protect(login)
    for (const spelling of ['alice@example.com', 'ALICE@example.com', 'Alice@Example.COM', 'ａｌｉｃｅ@example.com', ' alice@example.com ']) {
      expect(await attempt(protectedLogin, spelling, 'wrong')).toBe('UNAUTHORIZED')
    }
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('TOO_MANY_REQUESTS')
  })

  it('other accounts are not affected', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith().protect(login)
    await failTimes(protectedLogin, 5, 'alice@example.com')
    expect(await attempt(protectedLogin, 'bob@example.com', 'bob-password')).toBe('ok')
  })

  it('a successful login clears the account’s failures', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith().protect(login)
    await failTimes(protectedLogin, 4, 'alice@example.com')
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('ok')
    await failTimes(protectedLogin, 5, 'alice@example.com')
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('TOO_MANY_REQUESTS')
  })

  it('with resetOnSuccess: false a success only does not count: earlier failures stay', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith({ resetOnSuccess: false }).protect(login)
    await failTimes(protectedLogin, 4, 'alice@example.com')
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('ok')
    await failTimes(protectedLogin, 1, 'alice@example.com')
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('TOO_MANY_REQUESTS')
  })

  it('30 parallel wrong passwords: only 5 are checked, the rest refused, and the right one after them too', async () => {
    const { login, checks } = makeLogin()
    const protectedLogin = throttleWith().protect(login)
    const results = await Promise.all(Array.from({ length: 30 }, () => attempt(protectedLogin, 'alice@example.com', 'wrong')))
    expect(results.filter((code) => code === 'UNAUTHORIZED')).toHaveLength(5)
    expect(results.filter((code) => code === 'TOO_MANY_REQUESTS')).toHaveLength(25)
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('TOO_MANY_REQUESTS')
    expect(checks()).toBe(5)
  })

  it('errors that are not failed logins (invalid input, a crash) do not count', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith().protect(login)
    for (let index = 0; index < 6; index++) {
      expect(await attempt(protectedLogin, 'alice@example.com', 'crash')).toBe('INTERNAL')
    }
    await expect(runner.run(protectedLogin, { email: 'alice@example.com' }, wireFrom())).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    await failTimes(protectedLogin, 4, 'alice@example.com')
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('ok')
  })

  it('isFailure decides what counts', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith({ isFailure: (error) => error instanceof UnauthorizedError || (error as Error).message === 'database exploded' }).protect(login)
    for (let index = 0; index < 5; index++) await attempt(protectedLogin, 'alice@example.com', 'crash')
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('TOO_MANY_REQUESTS')
  })

  it('reset(account) unlocks an account at once, whatever its spelling', async () => {
    const { login } = makeLogin()
    const throttle = throttleWith()
    const protectedLogin = throttle.protect(login)
    await failTimes(protectedLogin, 5, 'alice@example.com')
    await throttle.reset('Alice@Example.com')
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('ok')
    await expect(throttle.reset('  ')).rejects.toThrow('reset needs the account a login names')
  })

  it('a login that names no account is a bad request, never an unthrottled attempt', async () => {
    const { login } = makeLogin()
    const noSchema = pikkuSessionlessFunc<LoginInput, unknown>({ name: 'login', func: login.func })
    const protectedLogin = throttleWith().protect(noSchema)
    for (const data of [{ email: '   ', password: 'x' }, { password: 'x' }, undefined, 'just text']) {
      const error = await runner.run(protectedLogin, data, wireFrom()).catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(BadRequestError)
      expect((error as Error).message).toBe('The login request names no account')
    }
  })
})

describe('login throttling per client address', () => {
  it('20 failures from one address, over any accounts, refuse its next login for a minute; other addresses go on', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith().protect(login)
    for (let index = 0; index < 20; index++) expect(await attempt(protectedLogin, `user${index}@example.com`, 'wrong', '198.51.100.7')).toBe('UNAUTHORIZED')
    const error = (await runner.run(protectedLogin, { email: 'bob@example.com', password: 'bob-password' }, wireFrom('198.51.100.7')).catch((thrown: unknown) => thrown)) as TooManyRequestsError
    expect(error.code).toBe('TOO_MANY_REQUESTS')
    expect(error.retryAfter).toBe(60)
    expect(error.message).toBe('Too many failed login attempts. Try again in 60 seconds.')
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password', '198.51.100.8')).toBe('ok')
    // The refused attempt was not counted against bob's account: four more failures leave room for a fifth attempt.
    await failTimes(protectedLogin, 4, 'bob@example.com', '198.51.100.8')
    expect(await attempt(protectedLogin, 'bob@example.com', 'bob-password', '198.51.100.8')).toBe('ok')
    clock.advance(60_000)
    expect(await attempt(protectedLogin, 'bob@example.com', 'bob-password', '198.51.100.7')).toBe('ok')
  })

  it('a successful login does not clear the address count: one working account cannot unlock guessing at others', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith({ perAddress: { limit: 3, windowSeconds: 60 } }).protect(login)
    await failTimes(protectedLogin, 2, 'victim@example.com', '198.51.100.7')
    expect(await attempt(protectedLogin, 'bob@example.com', 'bob-password', '198.51.100.7')).toBe('ok')
    await failTimes(protectedLogin, 1, 'victim@example.com', '198.51.100.7')
    expect(await attempt(protectedLogin, 'other@example.com', 'wrong', '198.51.100.7')).toBe('TOO_MANY_REQUESTS')
  })

  it('IPv6 addresses of one /56 share a count, and an IPv4-mapped address is its IPv4 address', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith({ perAddress: { limit: 2, windowSeconds: 60 } }).protect(login)
    expect(await attempt(protectedLogin, 'a@example.com', 'wrong', '2001:db8:1:ff00::1')).toBe('UNAUTHORIZED')
    expect(await attempt(protectedLogin, 'b@example.com', 'wrong', '2001:db8:1:ff12:abcd::2')).toBe('UNAUTHORIZED')
    expect(await attempt(protectedLogin, 'c@example.com', 'wrong', '2001:db8:1:ffaa::3')).toBe('TOO_MANY_REQUESTS')
    expect(await attempt(protectedLogin, 'c@example.com', 'wrong', '2001:db8:1:100::3')).toBe('UNAUTHORIZED')

    expect(await attempt(protectedLogin, 'd@example.com', 'wrong', '192.0.2.5')).toBe('UNAUTHORIZED')
    expect(await attempt(protectedLogin, 'e@example.com', 'wrong', '::ffff:192.0.2.5')).toBe('UNAUTHORIZED')
    expect(await attempt(protectedLogin, 'f@example.com', 'wrong', '192.0.2.5')).toBe('TOO_MANY_REQUESTS')
  })

  it('a call without an address (a local CLI command) is limited per account only', async () => {
    const { login } = makeLogin()
    const protectedLogin = throttleWith({ perAddress: { limit: 1, windowSeconds: 60 } }).protect(login)
    await failTimes(protectedLogin, 3, 'a@example.com')
    await failTimes(protectedLogin, 3, 'b@example.com')
  })

  it('perAccount: false limits per address only, and perAddress: false per account only', async () => {
    const { login } = makeLogin()
    const byAddress = throttleWith({ perAccount: false, perAddress: { limit: 2, windowSeconds: 60 } }).protect(login)
    await failTimes(byAddress, 2, 'alice@example.com', '192.0.2.1')
    expect(await attempt(byAddress, 'alice@example.com', 'alice-password', '192.0.2.1')).toBe('TOO_MANY_REQUESTS')
    expect(await attempt(byAddress, 'alice@example.com', 'alice-password', '192.0.2.2')).toBe('ok')
    // Without an account counter a login that names no account is simply run.
    backend = createMemoryThrottleBackend({ clock: clock.now })
    const byAccount = throttleWith({ perAddress: false }).protect(login)
    await failTimes(byAccount, 5, 'bob@example.com', '192.0.2.3')
    expect(await attempt(byAccount, 'bob@example.com', 'bob-password', '192.0.2.99')).toBe('TOO_MANY_REQUESTS')
  })
})

describe('the protected function', () => {
  it('keeps the login’s name, schema, docs, middleware and session rule, and documents TOO_MANY_REQUESTS', () => {
    const middleware = pikkuMiddleware(async (_services, _wire, next) => next())
    const login = pikkuSessionlessFunc<LoginInput, string>({
      name: 'signIn',
      input: z.object({ email: z.string(), password: z.string() }),
      middleware: [middleware],
      func: () => 'ok',
      docs: { summary: 'Sign in', errors: ['UNAUTHORIZED'] },
    })
    const protectedLogin = throttleWith().protect(login)
    expect(protectedLogin).not.toBe(login)
    expect(Object.isFrozen(protectedLogin)).toBe(true)
    expect(protectedLogin).toMatchObject({ kind: 'pikku-function', name: 'signIn', auth: false, input: login.input, middleware: [middleware] })
    expect(protectedLogin.docs).toEqual({ summary: 'Sign in', errors: ['UNAUTHORIZED', 'TOO_MANY_REQUESTS'] })
    expect(login.docs?.errors).toEqual(['UNAUTHORIZED'])
    expect(() => throttleWith().protect({} as never)).toThrow('protect takes a function made with pikkuFunc or pikkuSessionlessFunc')
  })

  it('a backend that fails refuses the login with 503, logs the cause, and shows the caller no driver message', async () => {
    const logged: unknown[] = []
    const logger: Logger = { ...silentLogger, error: (message, meta) => logged.push({ message, meta }) }
    const broken: ThrottleBackend = {
      counter: () => ({
        hit: () => Promise.reject(new Error('ECONNREFUSED 10.0.0.5:6379 password=hunter2')),
        undo: () => Promise.resolve(),
        clear: () => Promise.resolve(),
      }),
    }
    const { login, checks } = makeLogin()
    const protectedLogin = throttleWith({ backend: broken, logger }).protect(login)
    const error = await runner.run(protectedLogin, { email: 'alice@example.com', password: 'alice-password' }, wireFrom('192.0.2.1')).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'Logging in is unavailable right now; try again later' })
    expect(JSON.stringify(error)).not.toContain('hunter2')
    expect(checks()).toBe(0)
    expect(logged).toHaveLength(1)
    expect(JSON.stringify(logged, (_key, value: unknown) => (value instanceof Error ? value.message : value))).toContain('ECONNREFUSED')
  })

  it('a backend given as a function is made on the first login, and one that cannot be made is tried again next time', async () => {
    let made = 0
    const factory = (): ThrottleBackend => {
      made += 1
      if (made === 1) throw new Error('cannot open the database')
      return backend
    }
    const { login } = makeLogin()
    const protectedLogin = throttleWith({ backend: factory }).protect(login)
    expect(made).toBe(0)
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('SERVICE_UNAVAILABLE')
    await failTimes(protectedLogin, 5, 'alice@example.com')
    expect(await attempt(protectedLogin, 'alice@example.com', 'alice-password')).toBe('TOO_MANY_REQUESTS')
    expect(made).toBe(2)
  })

  it('when one counter fails, the attempt counted in the other is taken back', async () => {
    const working = createMemoryThrottleBackend({ clock: clock.now })
    const halfBroken: ThrottleBackend = {
      counter: (name, windowSeconds) =>
        name === 'address'
          ? { hit: () => Promise.reject(new Error('down')), undo: () => Promise.resolve(), clear: () => Promise.resolve() }
          : working.counter(name, windowSeconds),
    }
    const { login } = makeLogin()
    const broken = throttleWith({ backend: halfBroken }).protect(login)
    for (let index = 0; index < 10; index++) expect(await attempt(broken, 'alice@example.com', 'wrong', '192.0.2.1')).toBe('SERVICE_UNAVAILABLE')
    const healthy = createLoginThrottle<LoginInput>({ accountKey: (data) => data.email, backend: working, perAddress: false, logger: silentLogger }).protect(login)
    await failTimes(healthy, 4, 'alice@example.com')
    expect(await attempt(healthy, 'alice@example.com', 'alice-password')).toBe('ok')
  })
})
