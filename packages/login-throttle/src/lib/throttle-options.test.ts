import { describe, expect, it } from 'vitest'
import { createLoginThrottle } from './login-throttle.js'
import type { LoginThrottleOptions } from './throttle-options.js'

type Input = { email: string }
const accountKey = (data: Input): string => data.email
const make = (options: Partial<LoginThrottleOptions<Input>>): unknown => createLoginThrottle<Input>({ accountKey, ...options } as LoginThrottleOptions<Input>)

describe('createLoginThrottle options', () => {
  it('are checked when the throttle is made, with messages that say what to change', () => {
    expect(() => createLoginThrottle(undefined as never)).toThrow('createLoginThrottle needs options')
    expect(() => make({ accountKey: 'email' as never })).toThrow('accountKey must be a function returning the account a login names')
    expect(() => make({ backend: {} as never })).toThrow('backend must be a ThrottleBackend')
    expect(() => make({ perAccount: { limit: 0 } })).toThrow('perAccount.limit must be a whole number of failed logins, at least 1; got 0')
    expect(() => make({ perAccount: { limit: 2.5 } })).toThrow('perAccount.limit must be a whole number')
    expect(() => make({ perAddress: { windowSeconds: 0 } })).toThrow('perAddress.windowSeconds must be a whole number of seconds from 1 to 604800 (a week); got 0')
    expect(() => make({ perAddress: { windowSeconds: 10 ** 9 } })).toThrow('perAddress.windowSeconds must be a whole number of seconds')
    expect(() => make({ perAddress: 'strict' as never })).toThrow('perAddress must be { limit?, windowSeconds? } or false')
    expect(() => make({ perAccount: false, perAddress: false })).toThrow('perAccount and perAddress are both false, so nothing would be limited')
    expect(() => make({ isFailure: true as never })).toThrow('isFailure must be a function')
    expect(() => make({ resetOnSuccess: 'yes' as never })).toThrow('resetOnSuccess must be true or false; got "yes"')
    expect(() => make({ ipv6Subnet: 0 })).toThrow('ipv6Subnet must be a prefix length from 1 to 128')
    expect(() => make({ logger: {} as never })).toThrow('logger must have error and warn methods')
  })

  it('accept the defaults and partial limits', () => {
    expect(() => make({})).not.toThrow()
    expect(() => make({ perAccount: { limit: 3 }, perAddress: { windowSeconds: 300 } })).not.toThrow()
    expect(() => make({ perAddress: false })).not.toThrow()
  })
})
