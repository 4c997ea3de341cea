/** Table names are interpolated into SQL, so only plain identifiers are accepted. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export function assertTableName(tableName: string): void {
  if (typeof tableName !== 'string' || !IDENTIFIER.test(tableName)) {
    throw new TypeError(
      `tableName must be a plain SQL identifier (a letter or _, then letters, digits or _, at most 63 characters); got ${JSON.stringify(tableName)}`,
    )
  }
}

/**
 * The schema, created if missing. `IF NOT EXISTS` makes it safe to run on every open, from any
 * number of processes sharing the file.
 */
export function schemaStatements(tableName: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS "${tableName}" (
      id TEXT PRIMARY KEY NOT NULL,
      user_id TEXT NOT NULL,
      data TEXT NOT NULL,
      version INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      last_active_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS "${tableName}_user_id" ON "${tableName}" (user_id, expires_at)`,
    `CREATE INDEX IF NOT EXISTS "${tableName}_expires_at" ON "${tableName}" (expires_at)`,
  ]
}
