import { createMemoryStore } from '@pikku/core'
import type { Profile } from '../app.js'
import type { RunningVariant } from '../variant.js'
import { startPikku } from './pikku-app.js'

export function start(): RunningVariant {
  const store = createMemoryStore<Profile>()
  return startPikku({ store, credential: 'cookie', onClose: async () => { await store.close?.() } })
}
