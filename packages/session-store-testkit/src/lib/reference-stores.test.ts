import { cacheSessionStore, createMemoryStore, createNamespacedStore } from '@pikku/core'
import { describeSessionStoreConformance } from './store-conformance.js'

// Core's own stores are the reference: the suite passes against them, as against every store.
describeSessionStoreConformance('memory store', { create: (clock) => createMemoryStore({ clock: clock.now, sweepInterval: 0 }) })

describeSessionStoreConformance('a namespaced view of the memory store', {
  create: (clock) => createNamespacedStore(createMemoryStore({ clock: clock.now, sweepInterval: 0 }), 'mcp'),
})

describeSessionStoreConformance('the read cache in front of the memory store', {
  create: (clock) => cacheSessionStore(createMemoryStore({ clock: clock.now, sweepInterval: 0 }), { maxEntries: 50 }, { clock: clock.now }),
  destroy: (store) => store.close?.(),
})
