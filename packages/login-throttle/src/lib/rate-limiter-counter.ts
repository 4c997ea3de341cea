import { RateLimiterRes } from 'rate-limiter-flexible'
import type { ThrottleCount, ThrottleCounter } from './throttle-backend.js'

/** The part of a rate-limiter-flexible limiter the store backends use. */
export interface StoreLimiter {
  penalty(key: string, points?: number): Promise<RateLimiterRes>
  reward(key: string, points?: number): Promise<RateLimiterRes>
  delete(key: string): Promise<boolean>
}

/**
 * A counter on a rate-limiter-flexible store limiter. Only its atomic windowed counting is used
 * (`penalty` adds one without refusing anything, `reward` takes one back): what a count means is
 * the throttle's decision, made once for every backend. `beforeHit` runs first (table checks,
 * sweeps).
 */
export function counterFromLimiter(limiter: StoreLimiter, beforeHit?: () => Promise<void>): ThrottleCounter {
  return {
    async hit(key: string): Promise<ThrottleCount> {
      if (beforeHit !== undefined) await beforeHit()
      const result = await settle(limiter.penalty(key, 1))
      // A key without a window (-1) cannot come from these limiters; 0 is the safe reading.
      return { count: result.consumedPoints, resetsInMs: Math.max(0, result.msBeforeNext) }
    },
    async undo(key: string): Promise<void> {
      await settle(limiter.reward(key, 1))
    },
    async clear(key: string): Promise<void> {
      await settle(limiter.delete(key))
    },
  }
}

/** rate-limiter-flexible rejects with a `RateLimiterRes` for refusals: always an `Error` here. */
async function settle<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation
  } catch (error) {
    if (error instanceof Error) throw error
    if (error instanceof RateLimiterRes) throw new Error(`the rate limiter refused an operation it should not refuse (${error.toString()})`)
    throw new Error(`the rate limiter failed: ${String(error)}`)
  }
}

/**
 * Runs `sweep` in the background at most once per `intervalMs`, from the request path, so a
 * backend needs no timer of its own (and nothing to stop when the app closes its database).
 */
export function occasionalSweep(sweep: () => Promise<void>, intervalMs: number, clock: () => number = () => Date.now()): () => Promise<void> {
  let last = clock()
  return async () => {
    if (intervalMs <= 0) return
    const now = clock()
    if (now - last < intervalMs) return
    last = now
    // Expired rows are already worth nothing; failing to delete them changes no decision.
    sweep().catch(() => undefined)
  }
}
