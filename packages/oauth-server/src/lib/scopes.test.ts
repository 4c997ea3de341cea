import { ForbiddenError, type SessionlessWire } from '@pikku/core'
import { SessionState } from '@pikku/core/protocol'
import { describe, expect, it } from 'vitest'
import { requireScope } from './scopes.js'

const wire = (limited?: { scopes: string[] }): SessionlessWire => ({ protocol: 'mcp', session: new SessionState(), ...(limited === undefined ? {} : { scopes: limited.scopes }) }) as SessionlessWire

describe('requireScope', () => {
  it('lets an OAuth client with the scope through and refuses one without it with insufficient_scope', async () => {
    const guard = requireScope('notes:write')
    expect(await guard({}, undefined, wire({ scopes: ['mcp:tools', 'notes:write'] }))).toBe(true)
    let refused: unknown
    try {
      await guard({}, undefined, wire({ scopes: ['mcp:tools'] }))
    } catch (error) {
      refused = error
    }
    expect(refused).toBeInstanceOf(ForbiddenError)
    expect((refused as ForbiddenError).details).toEqual({ error: 'insufficient_scope', scope: 'notes:write' })
  })

  it('does not restrict the user acting with the app’s own credentials', async () => {
    expect(await requireScope('notes:write')({}, undefined, wire())).toBe(true)
  })

  it('refuses a scope name with spaces at configuration time', () => {
    expect(() => requireScope('a b')).toThrow(/one scope name/)
  })
})
