import { join } from 'node:path'
import type { Logger, SessionStore } from '@pikku/core'
import { type DemoThrottleBackend, openDemoThrottleBackend } from './login-throttle.js'
import { type DemoPreferences, openDemoPreferences } from './preferences.js'
import { openDemoStore, type StoreKind } from './store.js'
import type { UserSession } from './types.js'

export interface DemoDataOptions {
  kind: StoreKind
  /** Folder for the SQLite file. @default '.data' */
  dataDir?: string
  /** For sqlite: the database file. @default `<dataDir>/sessions.db` */
  sqlitePath?: string
  /** For sqlite: how often expired sessions are swept; 0 for a process that runs one command. @default 60_000 */
  sweepInterval?: number
  /** For redis. @default 'redis://127.0.0.1:6379' */
  redisUrl?: string
  /** For postgres. @default pg's PG* environment variables */
  databaseUrl?: string
  logger: Logger
}

/** Everything the demo keeps, in one backend: sessions, failed-login counts, users' preferences. */
export interface DemoData {
  readonly kind: StoreKind
  readonly store: SessionStore<UserSession>
  readonly throttle: DemoThrottleBackend
  readonly preferences: DemoPreferences
  /** Closes all three (an app made from them closes them itself). */
  close(): Promise<void>
}

/**
 * Opens the demo's data in the backend of `kind`, in an order that is safe when several processes
 * start on one empty data folder at the same instant: the session store first (it creates the
 * SQLite file private, switches it to WAL and creates its tables, waiting for the others), then
 * the counters and preferences, whose tables are created under the write lock.
 */
export async function openDemoData(options: DemoDataOptions): Promise<DemoData> {
  const sqlitePath = options.sqlitePath ?? join(options.dataDir ?? '.data', 'sessions.db')
  const common = { sqlitePath, redisUrl: options.redisUrl, databaseUrl: options.databaseUrl, logger: options.logger }
  const store = await openDemoStore(options.kind, { ...common, sweepInterval: options.sweepInterval })
  const opened: { close(): Promise<void> }[] = [{ close: async () => store.close?.() }]
  try {
    const throttle = await openDemoThrottleBackend(options.kind, common)
    opened.push(throttle)
    // So the first logins after start are not refused while the counters' connection opens.
    await throttle.ready
    const preferences = await openDemoPreferences(options.kind, common)
    return {
      kind: options.kind,
      store,
      throttle,
      preferences,
      async close() {
        await store.close?.()
        await throttle.close()
        await preferences.close()
      },
    }
  } catch (error) {
    // Nothing is left half-open when one part cannot be opened.
    for (const part of opened.reverse()) await part.close().catch(() => undefined)
    throw error
  }
}
