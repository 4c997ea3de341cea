import { describe, expect, it } from 'vitest'
import { resolveSessionLifetime, USER_SESSION_DEFAULTS } from './session-lifetime.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

describe('session lifetimes are resolved in one place', () => {
  it('defaults to 24 hours idle, 7 days absolute, renewal every 5 minutes', () => {
    const lifetime = resolveSessionLifetime()
    expect([lifetime.idleTimeout, lifetime.absoluteTimeout, lifetime.renewalInterval]).toEqual([24 * HOUR, 7 * 24 * HOUR, 5 * MINUTE])
  })

  it('renews at most every tenth of a short idle timeout', () => {
    expect(resolveSessionLifetime({ idleTimeout: 10 * MINUTE }).renewalInterval).toBe(MINUTE)
  })

  it("a session kind's own defaults apply to what the options leave out", () => {
    const mcp = resolveSessionLifetime({}, { idleTimeout: HOUR, absoluteTimeout: 24 * HOUR, maxRenewalInterval: MINUTE })
    expect([mcp.idleTimeout, mcp.absoluteTimeout, mcp.renewalInterval]).toEqual([HOUR, 24 * HOUR, MINUTE])
    expect(resolveSessionLifetime({ idleTimeout: 2 * HOUR }, USER_SESSION_DEFAULTS).absoluteTimeout).toBe(7 * 24 * HOUR)
  })

  it('ends a session at the earlier of its idle and absolute timeouts', () => {
    const lifetime = resolveSessionLifetime({ idleTimeout: HOUR, absoluteTimeout: 3 * HOUR })
    expect(lifetime.expiresAt(0, 0)).toBe(HOUR)
    expect(lifetime.expiresAt(0, 2.5 * HOUR)).toBe(3 * HOUR)
    expect(lifetime.isExpired({ createdAt: 0, lastActiveAt: 0 }, HOUR - 1)).toBe(false)
    expect(lifetime.isExpired({ createdAt: 0, lastActiveAt: 0 }, HOUR)).toBe(true)
    expect(lifetime.isExpired({ createdAt: 0, lastActiveAt: 2.9 * HOUR }, 3 * HOUR)).toBe(true)
    // A stored expiry earlier than the timeouts (set under shorter ones) counts too.
    expect(lifetime.isExpired({ createdAt: 0, lastActiveAt: 0, expiresAt: 10 }, 10)).toBe(true)
  })

  it('says when a renewal is due', () => {
    const lifetime = resolveSessionLifetime({ renewalInterval: MINUTE })
    expect(lifetime.renewalDue(0, MINUTE - 1)).toBe(false)
    expect(lifetime.renewalDue(0, MINUTE)).toBe(true)
  })

  it('refuses impossible settings at configuration time, naming the option and the caller', () => {
    expect(() => resolveSessionLifetime({ idleTimeout: 0 })).toThrow(/idleTimeout must be a positive number of milliseconds; got 0/)
    expect(() => resolveSessionLifetime({ absoluteTimeout: Number.NaN })).toThrow(/absoluteTimeout/)
    expect(() => resolveSessionLifetime({ idleTimeout: MINUTE, renewalInterval: MINUTE }, undefined, 'createX: ')).toThrow(
      /^createX: renewalInterval must be at least 0 and shorter than idleTimeout \(60000 ms\); got 60000$/,
    )
    expect(() => resolveSessionLifetime({ idleTimeout: '5' as unknown as number })).toThrow(/idleTimeout/)
  })
})
