import { describe, expect, it } from 'vitest'
import { pikkuFunc } from './function.js'
import { silentLogger } from './logger.js'
import { createMemoryStore } from './memory-store.js'
import { pikkuMiddleware } from './middleware.js'
import { pikkuPermission } from './permission.js'
import { recordingStore } from './recording-store.test-support.js'
import { createRunner, defineServiceAccount } from './runner.js'
import { createSessionManager } from './session-manager.js'

const billingSession = { userId: 'service:billing', scopes: ['invoices:write'] }
const billing = defineServiceAccount({ name: 'billing', session: billingSession })

const hasScope = (scope: string) =>
  pikkuPermission(async (_services, _data, wire) => {
    const session = (await wire.session.get()) as typeof billingSession | undefined
    return session?.scopes.includes(scope) === true
  })

describe('service accounts', () => {
  it('runs a pikkuFunc as the account, which sees the account’s session and name', async () => {
    const runner = createRunner({ services: {}, logger: silentLogger })
    const whoAmI = pikkuFunc<void, { userId: string; serviceAccount: string | undefined; protocol: string }>({
      func: async (_services, _data, wire) => ({
        userId: (await wire.session.get()).userId,
        serviceAccount: wire.serviceAccount,
        protocol: wire.protocol,
      }),
    })
    expect(await runner.runAsServiceAccount(billing, whoAmI, undefined)).toEqual({
      userId: 'service:billing',
      serviceAccount: 'billing',
      protocol: 'service',
    })
  })

  it('permissions are checked against the account’s session', async () => {
    const runner = createRunner({ services: {}, logger: silentLogger })
    const sendInvoice = pikkuFunc<void, string>({ func: async () => 'sent', permissions: hasScope('invoices:write') })
    const deleteUser = pikkuFunc<void, string>({ func: async () => 'deleted', permissions: hasScope('users:delete') })
    expect(await runner.runAsServiceAccount(billing, sendInvoice, undefined)).toBe('sent')
    await expect(runner.runAsServiceAccount(billing, deleteUser, undefined)).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })

  it('nothing is written to any store, even when the function and middleware change the session', async () => {
    const store = recordingStore(createMemoryStore({ sweepInterval: 0 }))
    const manager = createSessionManager({ store })
    // A global middleware that persists whatever the call did, as a careless app might write.
    const persist = pikkuMiddleware(async (_services, wire, next) => {
      await next()
      await manager.commit(wire.session)
    })
    const runner = createRunner({ services: {}, logger: silentLogger, middleware: [persist] })
    const meddle = pikkuFunc<void, void>({
      func: async (_services, _data, { session }) => {
        await session.update({ scopes: ['everything'] } as never)
        await session.set({ userId: 'someone-else' })
        await session.clear()
      },
    })
    await runner.runAsServiceAccount(billing, meddle, undefined)
    expect(store.calls).toEqual([])
  })

  it('a change one call makes to the session does not reach the account’s next call', async () => {
    const runner = createRunner({ services: {}, logger: silentLogger })
    const grab = pikkuFunc<void, string[]>({
      func: async (_services, _data, { session }) => {
        const current = (await session.get()) as typeof billingSession
        current.scopes.push('users:delete')
        await session.set(current)
        return current.scopes
      },
    })
    expect(await runner.runAsServiceAccount(billing, grab, undefined)).toEqual(['invoices:write', 'users:delete'])
    expect(await runner.runAsServiceAccount(billing, grab, undefined)).toEqual(['invoices:write', 'users:delete'])
    expect(billingSession.scopes).toEqual(['invoices:write'])
  })

  it('the account keeps the session it was defined with, whatever happens to the object passed in', async () => {
    const session = { userId: 'service:reports', scopes: ['reports:read'] }
    const reports = defineServiceAccount({ name: 'reports', session })
    session.scopes.push('users:delete')
    expect(reports.session).toEqual({ userId: 'service:reports', scopes: ['reports:read'] })
    expect(Object.isFrozen((reports.session as unknown as typeof session).scopes)).toBe(true)
  })

  it('defineServiceAccount refuses an account without a name or a userId, when declared', () => {
    expect(() => defineServiceAccount({ name: '', session: { userId: 'x' } })).toThrow(/non-empty name/)
    expect(() => defineServiceAccount({ name: 'cron', session: { userId: '' } })).toThrow(/non-empty userId/)
  })
})
