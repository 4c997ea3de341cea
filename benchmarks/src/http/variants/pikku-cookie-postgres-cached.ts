import type { RunningVariant } from '../variant.js'
import { startPikkuOnPostgres } from './pikku-postgres.js'

/** Pikku cookie sessions on the local PostgreSQL (DATABASE_URL) with the store's read cache. */
export function start(): RunningVariant {
  return startPikkuOnPostgres({})
}
