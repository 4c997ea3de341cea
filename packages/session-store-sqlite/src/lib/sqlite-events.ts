import { parseSessionEventMessage, type SessionEventMessage } from '@pikku/core/store'
import type { SqliteConnection } from './sqlite-driver.js'

/** A change or deletion, as stores carry them between processes. */
export type CarriedEvent = SessionEventMessage['event']

/** What one look at the events table found. */
export interface EventsRead {
  /** Other connections' events since the previous read, oldest first. */
  readonly events: CarriedEvent[]
  /** Some events were pruned before this connection read them: subscribers must re-check. */
  readonly gap: boolean
}

/**
 * The events table of one connection: every change is appended inside the transaction that makes
 * it, and other connections read what is new when SQLite's `data_version` says the file changed.
 */
export interface SqliteEventLog {
  /** Appends `event`; call inside the write transaction that makes the change. */
  append(event: CarriedEvent): void
  /** Skips everything written so far (a first subscriber does not want the past). */
  skipToEnd(): void
  /**
   * Other connections' events since the last read, or undefined when no other connection has
   * committed anything since (one `PRAGMA data_version`, no table read). Throws SQLite's errors.
   */
  read(): EventsRead | undefined
  /** Deletes events written before `before` (ms); returns how many went. */
  prune(before: number): number
}

export function createSqliteEventLog(connection: SqliteConnection, table: string, origin: string, clock: () => number): SqliteEventLog {
  const quoted = `"${table}"`
  const statements = {
    append: connection.prepare<[number, string, string]>(`INSERT INTO ${quoted} (at, origin, message) VALUES (?, ?, ?)`),
    dataVersion: connection.prepare<[], { data_version: number }>('PRAGMA data_version'),
    high: connection.prepare<[string], { seq: number }>('SELECT seq FROM sqlite_sequence WHERE name = ?'),
    low: connection.prepare<[], { seq: number | null }>(`SELECT min(seq) AS seq FROM ${quoted}`),
    since: connection.prepare<[number, number, string], { message: string }>(
      `SELECT message FROM ${quoted} WHERE seq > ? AND seq <= ? AND origin <> ? ORDER BY seq`,
    ),
    // Pruning removes a prefix of the sequence (everything before the first event young enough to
    // keep), so a reader can tell from the lowest remaining number whether it missed any.
    prune: connection.prepare<[number]>(
      `DELETE FROM ${quoted} WHERE seq < coalesce((SELECT seq FROM ${quoted} WHERE at >= ? ORDER BY seq LIMIT 1), (SELECT max(seq) + 1 FROM ${quoted}))`,
    ),
  }
  const highest = (): number => statements.high.get(table)?.seq ?? 0
  let lastSeq = highest()
  let seenVersion = statements.dataVersion.get()?.data_version

  return {
    append(event) {
      const message: SessionEventMessage = { origin, event }
      statements.append.run(clock(), origin, JSON.stringify(message))
    },

    skipToEnd() {
      seenVersion = statements.dataVersion.get()?.data_version
      lastSeq = highest()
    },

    read() {
      const version = statements.dataVersion.get()?.data_version
      if (version === seenVersion) return undefined
      // Read in this order, without a transaction: the newest number first, then the rows up to
      // it, then the lowest remaining number. Pruning only ever removes the oldest rows, so if the
      // lowest is still at or below the first one wanted, none of the rows read had been removed.
      const high = highest()
      const rows = high > lastSeq ? statements.since.all(lastSeq, high, origin) : []
      const low = statements.low.get()?.seq ?? undefined
      // high < lastSeq: the table was dropped and made again under this process.
      const gap = high < lastSeq || (high > lastSeq && (low === undefined || low > lastSeq + 1))
      const events: CarriedEvent[] = []
      for (const row of rows) {
        // A row another version of this package wrote in a shape this one does not know is skipped.
        const parsed = parseSessionEventMessage(row.message)
        if (parsed !== undefined) events.push(parsed.event)
      }
      lastSeq = high
      seenVersion = version
      return { events, gap }
    },

    prune(before) {
      return statements.prune.run(before).changes
    },
  }
}
