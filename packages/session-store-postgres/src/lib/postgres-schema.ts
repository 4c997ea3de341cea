// Schema and table names are interpolated into SQL (identifiers cannot be bound parameters), so
// only plain identifiers are accepted, and they are always written double-quoted. 50 characters
// leaves room for the suffixes of the index, version table and channel names within PostgreSQL's
// 63-byte identifier limit.
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,49}$/
// PostgreSQL truncates longer identifiers (LISTEN) but refuses longer channel names (pg_notify).
const MAX_CHANNEL_BYTES = 63

function assertIdentifier(option: 'tableName' | 'schema', value: string): void {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new TypeError(
      `${option} must be a lower-case SQL identifier (a letter or _, then letters, digits or _, at most 50 characters); got ${JSON.stringify(value)}`,
    )
  }
}

export function assertTableName(tableName: string): void {
  assertIdentifier('tableName', tableName)
}

/** Every name the store writes into SQL for one session table, quoted where SQL needs it. */
export interface SessionTableNames {
  /** The table name alone, unquoted (index names are derived from it). */
  readonly tableName: string
  /** The schema, unquoted; undefined means the connection's search_path decides. */
  readonly schema: string | undefined
  /** The table, quoted and schema-qualified: `"schema"."table"`. */
  readonly table: string
  /** The table recording applied migration steps, quoted and schema-qualified. */
  readonly versionTable: string
  /** The NOTIFY channel (unquoted, as pg_notify takes it); LISTEN quotes it. */
  readonly channel: string
  /** The advisory lock key serialising migrations of this table. */
  readonly lockKey: string
}

/**
 * Validates `tableName` and `schema` and derives every SQL name from them. Channels are not
 * schema objects in PostgreSQL (they are database-wide), so with a schema the channel name
 * carries it: `<schema>.<table>_events`, and stores in different schemas never hear each other.
 */
export function sessionTableNames(tableName: string, schema?: string): SessionTableNames {
  assertIdentifier('tableName', tableName)
  if (schema !== undefined) assertIdentifier('schema', schema)
  const qualify = (name: string): string => (schema === undefined ? `"${name}"` : `"${schema}"."${name}"`)
  const channel = schema === undefined ? `${tableName}_events` : `${schema}.${tableName}_events`
  if (Buffer.byteLength(channel) > MAX_CHANNEL_BYTES) {
    throw new RangeError(
      `schema and tableName are too long together: the event channel "${channel}" would exceed PostgreSQL's ${MAX_CHANNEL_BYTES}-byte limit; shorten one of them`,
    )
  }
  return {
    tableName,
    schema,
    table: qualify(tableName),
    versionTable: qualify(`${tableName}_schema`),
    channel,
    // Unchanged for a table without a schema, so processes of earlier versions still serialise with these.
    lockKey: schema === undefined ? `pikku-session-store:${tableName}` : `pikku-session-store:${schema}.${tableName}`,
  }
}

/** One step of the shipped schema. Steps are applied in order, each exactly once per table. */
export interface Migration {
  readonly version: number
  readonly statements: readonly string[]
}

export function migrations(names: SessionTableNames): readonly Migration[] {
  const { table, tableName } = names
  // Index names take no schema: PostgreSQL creates an index in its table's schema.
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

/** Options of {@link postgresSessionSchema}. */
export interface PostgresSessionSchemaOptions {
  /** @default 'pikku_sessions' */
  tableName?: string
  /** The schema to create the table in (created too when missing). @default undefined (the search_path) */
  schema?: string
}

/**
 * The whole schema as one SQL script, for operators who apply migrations with their own tooling
 * (then create the store with `migrate: false` and the same `tableName` and `schema`). Takes the
 * table name, or `{ tableName, schema }`.
 */
export function postgresSessionSchema(options: string | PostgresSessionSchemaOptions = {}): string {
  const { tableName = 'pikku_sessions', schema } = typeof options === 'string' ? { tableName: options } : options
  const names = sessionTableNames(tableName, schema)
  const statements = migrations(names).flatMap((migration) => migration.statements)
  if (schema !== undefined) statements.unshift(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
  return `${statements.join(';\n\n')};\n`
}
