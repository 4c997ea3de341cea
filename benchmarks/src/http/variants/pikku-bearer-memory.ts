import { createMemoryStore } from '@pikku/core'
import type { Profile } from '../app.js'
import type { RunningVariant } from '../variant.js'
import { startPikku } from './pikku-app.js'

/** Bearer JWTs (HS256) naming a stored session: a signature check plus a store read per request. */
export function start(): RunningVariant {
  const store = createMemoryStore<Profile>()
  return startPikku({ store, credential: 'bearer', onClose: async () => { await store.close?.() } })
}
