import { describe, expect, it, vi } from 'vitest'
import { createMemoryStore } from './memory-store.js'
import { createSessionManager } from './session-manager.js'

// Counts the SHA-256 hashes of tokens, to see which requests the token cache saves one.
const hashes = vi.hoisted(() => ({ count: 0 }))
vi.mock('./session-token.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('./session-token.js')>()
  return {
    ...original,
    hashSessionToken: (token: string) => {
      hashes.count++
      return original.hashSessionToken(token)
    },
  }
})

async function logIn(tokenCacheSize: number) {
  const manager = createSessionManager({ store: createMemoryStore({ sweepInterval: 0 }), tokenCacheSize })
  const state = manager.createState()
  await state.set({ userId: 'alice' })
  const result = await manager.commit(state)
  if (result.kind !== 'created') throw new Error(`expected a login, got ${result.kind}`)
  return { manager, token: result.token }
}

describe('the token cache learns a token at login', () => {
  it("the client's first request after logging in needs no hash", async () => {
    const { manager, token } = await logIn(10)
    const before = hashes.count
    expect((await manager.loadByToken(token))?.userId).toBe('alice')
    expect((await manager.loadByToken(token))?.userId).toBe('alice')
    expect(hashes.count).toBe(before)
  })

  it('with the cache off, every request hashes its token', async () => {
    const { manager, token } = await logIn(0)
    const before = hashes.count
    expect((await manager.loadByToken(token))?.userId).toBe('alice')
    expect((await manager.loadByToken(token))?.userId).toBe('alice')
    expect(hashes.count).toBe(before + 2)
  })
})
