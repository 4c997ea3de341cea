import { describe, expect, it } from 'vitest'
import { createSessionEventBus } from './session-events.js'
import type { SessionEvent } from './session-store.js'

const deleted: SessionEvent = { type: 'deleted', id: 'id-1', userId: 'alice', reason: 'revoked' }

describe('the session event bus stores deliver through', () => {
  it('tells listeners of an interruption once per gap, however many losses the store reports, and ends it at the resync', () => {
    const bus = createSessionEventBus()
    const seen: SessionEvent[] = []
    bus.subscribe((event) => seen.push(event))
    bus.publish({ type: 'interrupted' })
    bus.publish({ type: 'interrupted' })
    expect(bus.interrupted).toBe(true)
    bus.publish(deleted)
    bus.publish({ type: 'resync' })
    expect(bus.interrupted).toBe(false)
    bus.publish({ type: 'interrupted' })
    bus.publish({ type: 'resync' })
    expect(seen).toEqual([{ type: 'interrupted' }, deleted, { type: 'resync' }, { type: 'interrupted' }, { type: 'resync' }])
  })

  it('tells a listener that subscribes during a gap that delivery is interrupted, before subscribe returns', () => {
    const bus = createSessionEventBus()
    bus.publish({ type: 'interrupted' })
    const late: SessionEvent[] = []
    bus.subscribe((event) => late.push(event))
    expect(late).toEqual([{ type: 'interrupted' }])
    bus.publish({ type: 'resync' })
    const afterGap: SessionEvent[] = []
    bus.subscribe((event) => afterGap.push(event))
    expect(late).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
    expect(afterGap).toEqual([])
  })

  it('still delivers a resync without an interruption before it, as stores written before interrupted existed send it', () => {
    const bus = createSessionEventBus()
    const seen: SessionEvent[] = []
    bus.subscribe((event) => seen.push(event))
    bus.publish({ type: 'resync' })
    expect(seen).toEqual([{ type: 'resync' }])
  })

  it('keeps delivering to the other listeners when one throws, and reports the error', () => {
    const errors: unknown[] = []
    const bus = createSessionEventBus({ onListenerError: (error) => errors.push(error) })
    const seen: SessionEvent[] = []
    bus.subscribe(() => {
      throw new Error('faulty listener')
    })
    bus.subscribe((event) => seen.push(event))
    bus.publish(deleted)
    expect(seen).toEqual([deleted])
    expect(errors).toHaveLength(1)
    bus.publish({ type: 'interrupted' })
    bus.subscribe(() => {
      throw new Error('faulty late listener')
    })
    expect(errors).toHaveLength(3)
  })
})
