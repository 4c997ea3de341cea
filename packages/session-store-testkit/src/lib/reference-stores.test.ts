import { cacheSessionStore, createMemoryStore, type MemoryStore } from '@pikku/core'
import { createNamespacedStore } from '@pikku/core/protocol'
import { describeSessionStoreConformance, type SessionStoreConformanceOptions } from './store-conformance.js'

/** The store type the suite works with. */
type ConformanceStore = Awaited<ReturnType<SessionStoreConformanceOptions['create']>>

// Core's own stores are the reference: the suite passes against them, as against every store.
describeSessionStoreConformance('memory store', {
  create: (clock) => createMemoryStore({ clock: clock.now, sweepInterval: 0 }),
  sweep: (store) => (store as unknown as MemoryStore).sweep(),
})

describeSessionStoreConformance('a namespaced view of the memory store', {
  create: (clock) => createNamespacedStore(createMemoryStore({ clock: clock.now, sweepInterval: 0 }), 'mcp'),
})

describeSessionStoreConformance('the read cache in front of the memory store', {
  create: (clock) => {
    const memory: ConformanceStore = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
    return cacheSessionStore(memory, { maxEntries: 50 }, { clock: clock.now })
  },
  destroy: (store) => store.close?.(),
})
