import type { Services } from './register.js'
import type { PikkuWire } from './wire.js'

/**
 * Runs around a function call on every protocol. Call `next()` once to continue; code after it
 * runs after the function (and after inner middleware).
 */
export type PikkuMiddleware = (services: Services, wire: PikkuWire, next: () => Promise<void>) => Promise<unknown> | unknown

/** Declares a middleware with the app's types; returns it unchanged. */
export function pikkuMiddleware(middleware: PikkuMiddleware): PikkuMiddleware {
  if (typeof middleware !== 'function') {
    throw new TypeError('pikkuMiddleware takes a function (services, wire, next) => Promise<unknown>')
  }
  return middleware
}

/**
 * Runs `middleware` in onion order around `inner`. A middleware that calls `next()` twice gets an
 * error instead of running the function twice.
 */
export function runMiddleware(
  middleware: readonly PikkuMiddleware[],
  services: Services,
  wire: PikkuWire,
  inner: () => Promise<void>,
): Promise<void> {
  if (middleware.length === 0) return inner()
  let lastIndex = -1
  // Plain functions rather than async ones: a layer costs one promise (the middleware's own), not
  // three, which matters on the path every call takes.
  const dispatch = (index: number): Promise<void> => {
    if (index <= lastIndex) return Promise.reject(new Error('A middleware called next() more than once'))
    lastIndex = index
    const current = middleware[index]
    if (current === undefined) return inner()
    try {
      const result = current(services, wire, () => dispatch(index + 1))
      // The value a middleware resolves with is ignored, as with `await`.
      return (result instanceof Promise ? result : Promise.resolve(result)) as Promise<void>
    } catch (error) {
      return Promise.reject(error)
    }
  }
  return dispatch(0)
}
