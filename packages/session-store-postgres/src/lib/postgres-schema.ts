// Table names are interpolated into SQL (identifiers cannot be bound parameters), so only plain
// identifiers are accepted. 50 characters leaves room for the suffixes of the index, version
// table and channel names within PostgreSQL's 63-byte identifier limit.
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,49}$/

export function assertTableName(tableName: string): void {
  if (typeof tableName !== 'string' || !IDENTIFIER.test(tableName)) {
    throw new TypeError(
      `tableName must be a lower-case SQL identifier (a letter or _, then letters, digits or _, at most 50 characters); got ${JSON.stringify(tableName)}`,
    )
  }
}

/** One step of the shipped schema. Steps are applied in order, each exactly once per table. */
export interface Migration {
  readonly version: number
  readonly statements: readonly string[]
}

export function migrations(tableName: string): readonly Migration[] {
  const table = `"${tableName}"`
  return [
    {
      version: 1,
      statements: [
        `CREATE TABLE IF NOT EXISTS ${table} (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  data text NOT NULL,
  version integer NOT NULL,
  created_at bigint NOT NULL,
  last_active_at bigint NOT NULL,
  expires_at bigint NOT NULL
)`,
        `CREATE INDEX IF NOT EXISTS "${tableName}_user_id" ON ${table} (user_id, expires_at)`,
        `CREATE INDEX IF NOT EXISTS "${tableName}_expires_at" ON ${table} (expires_at)`,
      ],
    },
    {
      // Who the client is (protocol, credential kind, label, address) as JSON text, beside the data.
      version: 2,
      statements: [`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS metadata text`],
    },
  ]
}

/** The table recording which migration steps were applied to `tableName`. */
export const versionTableName = (tableName: string): string => `${tableName}_schema`

/** The NOTIFY channel for `tableName`'s session events. */
export const channelName = (tableName: string): string => `${tableName}_events`

/**
 * The whole schema as one SQL script, for operators who apply migrations with their own tooling
 * (then create the store with `migrate: false`).
 */
export function postgresSessionSchema(tableName = 'pikku_sessions'): string {
  assertTableName(tableName)
  return `${migrations(tableName)
    .flatMap((migration) => migration.statements)
    .join(';\n\n')};\n`
}
