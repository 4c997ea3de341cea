import { describe, expect, it, vi } from 'vitest'
import { pikkuFunc, pikkuSessionlessFunc } from './function.js'
import { silentLogger } from './logger.js'
import { pikkuPermission, type PermissionSpec } from './permission.js'
import { createRunner } from './runner.js'
import { SessionState } from './session-state.js'
import type { PikkuWire } from './wire.js'

interface RoleSession {
  userId: string
  role?: string
  verified?: boolean
}

function wireFor(session?: RoleSession): PikkuWire {
  const state = new SessionState()
  if (session !== undefined) state.resumeTransient(session)
  return { protocol: 'test', session: state }
}

const sessionOf = async (wire: { session: { get(): Promise<unknown> } }) => (await wire.session.get()) as RoleSession | undefined
const isAdmin = pikkuPermission(async (_services, _data, wire) => (await sessionOf(wire))?.role === 'admin')
const isEditor = pikkuPermission(async (_services, _data, wire) => (await sessionOf(wire))?.role === 'editor')
const isVerified = pikkuPermission(async (_services, _data, wire) => (await sessionOf(wire))?.verified === true)
const allow = pikkuPermission(() => true)
const deny = pikkuPermission(() => false)

async function outcome(spec: PermissionSpec, session: RoleSession | undefined, global?: PermissionSpec): Promise<string> {
  const runner = createRunner({ services: {}, logger: silentLogger, permissions: global })
  const fn = pikkuSessionlessFunc<void, string>({ func: async () => 'allowed', auth: false, permissions: spec })
  return runner.run(fn, undefined, wireFor(session)).catch((error: { code: string }) => error.code)
}

const admin: RoleSession = { userId: 'a', role: 'admin', verified: true }
const unverifiedAdmin: RoleSession = { userId: 'b', role: 'admin', verified: false }
const editor: RoleSession = { userId: 'c', role: 'editor', verified: true }
const viewer: RoleSession = { userId: 'd', role: 'viewer', verified: true }

describe('permission guards', () => {
  it('a single guard must pass', async () => {
    expect(await outcome(isAdmin, admin)).toBe('allowed')
    expect(await outcome(isAdmin, editor)).toBe('FORBIDDEN')
  })

  it('an array of guards passes only if all of them pass', async () => {
    expect(await outcome([isAdmin, isVerified], admin)).toBe('allowed')
    expect(await outcome([isAdmin, isVerified], unverifiedAdmin)).toBe('FORBIDDEN')
    expect(await outcome([isAdmin, isVerified], editor)).toBe('FORBIDDEN')
  })

  it('a record of guards passes if any entry passes, and an entry that is an array needs all of it', async () => {
    const spec = { admin: [isAdmin, isVerified], editor: isEditor }
    expect(await outcome(spec, admin)).toBe('allowed')
    expect(await outcome(spec, editor)).toBe('allowed')
    expect(await outcome(spec, unverifiedAdmin)).toBe('FORBIDDEN')
    expect(await outcome(spec, viewer)).toBe('FORBIDDEN')
  })

  it('an empty record allows nothing', async () => {
    expect(await outcome({}, admin)).toBe('FORBIDDEN')
  })

  it('a guard must answer true; a truthy value that is not true does not pass', async () => {
    const sloppy = pikkuPermission((() => 'yes') as never)
    expect(await outcome(sloppy, admin)).toBe('FORBIDDEN')
  })

  it('global and function permissions must both pass', async () => {
    expect(await outcome(isVerified, admin, isAdmin)).toBe('allowed')
    expect(await outcome(allow, editor, isAdmin)).toBe('FORBIDDEN')
    expect(await outcome(deny, admin, isAdmin)).toBe('FORBIDDEN')
  })

  it('a failing guard is ForbiddenError (403) and the function never runs', async () => {
    const func = vi.fn(async () => 'ran')
    const runner = createRunner({ services: {}, logger: silentLogger })
    const fn = pikkuFunc<void, string>({ func, permissions: isAdmin })
    await expect(runner.run(fn, undefined, wireFor(viewer))).rejects.toMatchObject({ code: 'FORBIDDEN', name: 'ForbiddenError' })
    expect(func).not.toHaveBeenCalled()
  })

  it('no session is UnauthorizedError (401), never 403, whatever the guards say', async () => {
    expect(await outcome(isAdmin, undefined)).toBe('UNAUTHORIZED')
    expect(await outcome({ admin: isAdmin }, undefined)).toBe('UNAUTHORIZED')
    expect(await outcome(allow, undefined, deny)).toBe('UNAUTHORIZED')
    const runner = createRunner({ services: {}, logger: silentLogger, permissions: deny })
    const fn = pikkuFunc<void, string>({ func: async () => 'ran', permissions: deny })
    await expect(runner.run(fn, undefined, wireFor())).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('guards that pass let an anonymous caller through a sessionless function', async () => {
    expect(await outcome(allow, undefined)).toBe('allowed')
  })

  it('guards see the validated input and the live session', async () => {
    const seen: unknown[] = []
    const guard = pikkuPermission<{ id: number }>(async (_services, data, wire) => {
      seen.push(data, await wire.session.get())
      return true
    })
    const runner = createRunner({ services: {}, logger: silentLogger })
    const fn = pikkuFunc<{ id: number }, string>({ func: async () => 'ok', permissions: guard })
    await runner.run(fn, { id: 7 }, wireFor(admin))
    expect(seen).toEqual([{ id: 7 }, admin])
  })

  it('pikkuPermission refuses something that is not a function, when declared', () => {
    expect(() => pikkuPermission(true as never)).toThrow(/takes a function/)
  })
})
