import { describe, expect, it } from 'vitest'
import { createEventDeliveryMonitor, type EventDeliveryMonitor } from './event-delivery-monitor.js'
import { heartbeatMessage } from './session-event-message.js'

const INTERVAL = 1_000

/** A monitor whose heartbeats are captured (and can be made to fail) and whose time is a number. */
function setup(): { monitor: EventDeliveryMonitor; events: string[]; sent: string[]; failPublish(fail: boolean): void; advance(ms: number): void } {
  const events: string[] = []
  const sent: string[] = []
  let failing = false
  let time = 0
  const monitor = createEventDeliveryMonitor({
    origin: 'store-1',
    deliver: (event) => events.push(event.type),
    publish: async (payload) => {
      if (failing) throw new Error('connect ECONNREFUSED')
      sent.push(payload)
    },
    checkInterval: INTERVAL,
    now: () => time,
  })
  return {
    monitor,
    events,
    sent,
    failPublish: (fail) => {
      failing = fail
    },
    advance: (ms) => {
      time += ms
    },
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('how a distributed store tells its listeners about gaps in event delivery', () => {
  it('says interrupted once at the first loss, however many follow, and resync once the subscription is back', () => {
    const { monitor, events } = setup()
    monitor.subscribed()
    expect(events).toEqual([])
    monitor.lost()
    monitor.lost()
    monitor.suspect()
    expect(monitor.interrupted).toBe(true)
    monitor.subscribed()
    monitor.subscribed()
    expect(events).toEqual(['interrupted', 'resync'])
    expect(monitor.interrupted).toBe(false)
  })

  it('ends a gap opened by an unreachable backend only when a heartbeat sent after it comes back', async () => {
    const { monitor, events, sent } = setup()
    monitor.check(true)
    await settle()
    const beforeOutage = sent.at(-1)!
    monitor.suspect()
    // Neither a heartbeat from before the outage, nor another server's message, nor a re-subscription
    // shows that revocations reach this process now.
    expect(monitor.heard(beforeOutage)).toBe(false)
    expect(monitor.heard('{"origin":"store-2","event":{}}')).toBe(false)
    monitor.subscribed()
    expect(events).toEqual(['interrupted'])
    // The backend answers again: a probe goes out at once, and hearing it ends the gap.
    monitor.verify()
    await settle()
    expect(sent).toHaveLength(2)
    expect(monitor.heard(sent[1]!)).toBe(true)
    expect(events).toEqual(['interrupted', 'resync'])
  })

  it('opens a gap when a heartbeat cannot be published, and probes only after a store-side gap', async () => {
    const { monitor, events, sent, failPublish } = setup()
    monitor.verify()
    expect(sent).toEqual([])
    failPublish(true)
    monitor.check(true)
    await settle()
    expect(events).toEqual(['interrupted'])
    failPublish(false)
    monitor.verify()
    await settle()
    expect(monitor.heard(sent[0]!)).toBe(true)
    expect(events).toEqual(['interrupted', 'resync'])
  })

  it('ends a gap the subscription’s own loss opened with any message heard (a Redis Cluster client re-subscribes silently)', () => {
    const { monitor, events } = setup()
    monitor.lost()
    monitor.suspect()
    expect(monitor.heard('{"origin":"store-2","event":{}}')).toBe(false)
    expect(events).toEqual(['interrupted', 'resync'])
  })

  it('finds a heartbeat unheard by the next check silent, giving an early probe half an interval', async () => {
    const { monitor, sent, advance } = setup()
    expect(monitor.check(true)).toBe('ok')
    await settle()
    advance(INTERVAL)
    expect(monitor.check(true)).toBe('silent')
    // After a replacement the next check sends again.
    expect(monitor.check(true)).toBe('ok')
    await settle()
    expect(monitor.heard(sent[1]!)).toBe(true)

    monitor.suspect()
    monitor.verify()
    await settle()
    advance(INTERVAL / 4)
    expect(monitor.check(true)).toBe('ok')
    advance(INTERVAL / 4)
    expect(monitor.check(true)).toBe('silent')
  })

  it('sends no heartbeat while the subscription cannot hear one', () => {
    const { monitor, sent } = setup()
    monitor.check(false)
    expect(sent).toEqual([])
    expect(monitor.heard(heartbeatMessage('store-1', 'store-1:1'))).toBe(false)
  })

  it('says nothing more once closed', async () => {
    const { monitor, events, sent } = setup()
    monitor.close()
    monitor.lost()
    monitor.suspect()
    monitor.check(true)
    await settle()
    expect(events).toEqual([])
    expect(sent).toEqual([])
  })
})
