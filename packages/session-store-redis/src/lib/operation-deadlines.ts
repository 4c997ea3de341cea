/** An operation being timed; pass it back to `settle()` once it is answered. */
export interface TimedOperation {
  /** When it expires, in `performance.now()` ms. */
  readonly at: number
  /** @internal */ expire: (() => void) | undefined
  /** @internal */ prev: TimedOperation | undefined
  /** @internal */ next: TimedOperation | undefined
}

/** Deadlines of operations that all have the same timeout. */
export interface OperationDeadlines {
  /** Starts timing an operation: `expire` is called once, `timeout` ms from now, unless it was settled first. */
  start(expire: () => void): TimedOperation
  /** The operation was answered: it no longer expires. Nothing happens if it had expired already. */
  settle(operation: TimedOperation): void
  /** Operations being timed. */
  readonly pending: number
}

/**
 * One timer for every operation in flight instead of a `setTimeout` and `clearTimeout` each (this
 * is the store's read and write of every request). Every operation gets the same timeout, so they
 * expire in the order they started: they wait in a list in that order, and a single timer is armed
 * for the oldest one. An answered operation leaves the list in O(1); the timer is not moved when the
 * oldest one leaves, it fires at the latest of the deadlines it was armed for and is then re-armed
 * for the oldest operation still waiting. No operation expires before its `timeout`, none later
 * than a `setTimeout` of its own would have.
 *
 * The timer keeps the process alive only while operations are waiting, as their own timers did.
 */
export function createOperationDeadlines(timeout: number): OperationDeadlines {
  let oldest: TimedOperation | undefined
  let newest: TimedOperation | undefined
  let pending = 0
  let timer: NodeJS.Timeout | undefined
  let refed = false

  const unlink = (operation: TimedOperation): void => {
    if (operation.prev === undefined) oldest = operation.next
    else operation.prev.next = operation.next
    if (operation.next === undefined) newest = operation.prev
    else operation.next.prev = operation.prev
    operation.prev = undefined
    operation.next = undefined
    operation.expire = undefined
    pending--
  }

  const arm = (head: TimedOperation, now: number): void => {
    // A timer may fire up to a millisecond early by this clock (libuv's loop time is cached):
    // never less than 1 ms, and fire() re-arms for what has not expired yet.
    timer = setTimeout(fire, Math.max(1, Math.ceil(head.at - now)))
    refed = true
  }

  const fire = (): void => {
    timer = undefined
    const now = performance.now()
    try {
      while (oldest !== undefined && oldest.at <= now) {
        const expired = oldest
        const expire = expired.expire!
        unlink(expired)
        expire()
      }
    } finally {
      // Re-armed even if a callback threw, so the operations behind it still expire. A callback may
      // also have started an operation, and armed the timer for it already.
      if (oldest !== undefined && timer === undefined) arm(oldest, performance.now())
    }
  }

  return {
    start(expire) {
      const now = performance.now()
      const operation: TimedOperation = { at: now + timeout, expire, prev: newest, next: undefined }
      if (newest === undefined) oldest = operation
      else newest.next = operation
      newest = operation
      pending++
      // An armed timer fires no later than the oldest deadline, which is no later than this one.
      if (timer === undefined) arm(operation, now)
      else if (!refed) {
        timer.ref()
        refed = true
      }
      return operation
    },
    settle(operation) {
      if (operation.expire === undefined) return
      unlink(operation)
      // Nothing waits: an idle store must not keep the process alive until the timer fires.
      if (pending === 0 && timer !== undefined) {
        timer.unref()
        refed = false
      }
    },
    get pending() {
      return pending
    },
  }
}
