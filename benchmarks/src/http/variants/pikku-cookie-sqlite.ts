import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSqliteStore } from '@pikku/session-store-sqlite'
import type { Profile } from '../app.js'
import type { RunningVariant } from '../variant.js'
import { startPikku } from './pikku-app.js'

/** A real database file (WAL) in a temporary directory, as a single-server deployment would use. */
export function start(): RunningVariant {
  const dir = mkdtempSync(join(tmpdir(), 'pikku-bench-sqlite-'))
  const store = createSqliteStore<Profile>({ path: join(dir, 'sessions.db') })
  return startPikku({
    store,
    credential: 'cookie',
    async onClose() {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  })
}
