/**
 * How the expiry of a connected session is scheduled. Injected so tests can drive expiry with a
 * test clock instead of waiting: `set` must call `callback` once `delayMs` have passed on the clock
 * the session manager uses.
 */
export interface ChannelSessionTimers {
  set(callback: () => void, delayMs: number): unknown
  clear(handle: unknown): void
}

/** Node timers; unref'd so an idle connection's expiry never keeps a process alive. */
export const systemTimers: ChannelSessionTimers = {
  set(callback, delayMs) {
    const timer = setTimeout(callback, delayMs)
    timer.unref()
    return timer
  },
  clear(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
}

// setTimeout overflows above 2^31-1 ms (about 24.8 days) and fires at once; longer waits re-arm.
export const MAX_TIMER_DELAY = 2_147_483_647
