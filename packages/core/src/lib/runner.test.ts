import { describe, expect, it } from 'vitest'
import { pikkuSessionlessFunc } from './function.js'
import { silentLogger } from './logger.js'
import { createRunner } from './runner.js'
import { SessionState } from './session-state.js'
import type { PikkuWire } from './wire.js'

describe('the runner', () => {
  it('layers per-call services over the app’s services for that call only', async () => {
    const services = { greeting: 'hello' }
    const runner = createRunner({
      services,
      logger: silentLogger,
      wireServices: (_services, wire) => ({ caller: wire.protocol }) as object,
    })
    const fn = pikkuSessionlessFunc<void, unknown>({
      func: async (callServices) => {
        const { greeting, caller } = callServices as { greeting: string; caller: string }
        return `${greeting} ${caller}`
      },
      auth: false,
    })
    const wire = (protocol: string): PikkuWire => ({ protocol, session: new SessionState() })
    expect(await runner.run(fn, undefined, wire('cli'))).toBe('hello cli')
    expect(await runner.run(fn, undefined, wire('mcp'))).toBe('hello mcp')
    expect(services).toEqual({ greeting: 'hello' })
  })

  it('refuses to be created without services', () => {
    expect(() => createRunner({} as never)).toThrow(/needs \{ services \}/)
  })
})
