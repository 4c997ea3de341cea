// Schema and table names are interpolated into SQL (identifiers cannot be bound parameters), so
// only plain identifiers are accepted, and they are always written double-quoted. 50 characters
// leaves room for the suffixes of the index, procedure, version table and channel names within
// PostgreSQL's 63-byte identifier limit.
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
  /** The procedure making a versioned update and sending its event, quoted and schema-qualified. */
  readonly updateProcedure: string
  /** The procedure renewing a session and sending its event, quoted and schema-qualified. */
  readonly touchProcedure: string
}

/**
 * The width (ms) of the expiry buckets the sweep's index holds instead of `expires_at` itself. A
 * request moves a session's `expires_at` forward by the time since its previous one; only when
 * that crosses a bucket boundary does the index entry change. Otherwise PostgreSQL can write the
 * update as a HOT update (no index touched), which it decides by comparing the indexed columns'
 * old and new values. Wider buckets make more updates HOT, and make each sweep read past more
 * rows that are in the current bucket but not yet expired.
 */
export const EXPIRY_BUCKET_MS = 300_000

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
    updateProcedure: qualify(`${tableName}_update`),
    touchProcedure: qualify(`${tableName}_touch`),
  }
}

/** One step of the shipped schema. Steps are applied in order, each exactly once per table. */
export interface Migration {
  readonly version: number
  readonly statements: readonly string[]
}

export function migrations(names: SessionTableNames): readonly Migration[] {
  const { table, tableName, schema } = names
  const qualifiedIndex = (name: string): string => (schema === undefined ? `"${name}"` : `"${schema}"."${name}"`)
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
        // Step 1 also created "<table>_user_id" (user_id, expires_at) and "<table>_expires_at"
        // (expires_at) until step 3 replaced them: left out here, so that a new table (or the
        // script applied again) does not build indexes that step 3 drops.
      ],
    },
    {
      // Who the client is (protocol, credential kind, label, address) as JSON text, beside the data.
      version: 2,
      statements: [`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS metadata text`],
    },
    {
      // HOT updates and one round trip per write (decision 037). Every statement is idempotent, so
      // the whole script of postgresSessionSchema() can be applied again to upgrade a table.
      version: 3,
      statements: [
        // Room on each page for the next version of its rows: a HOT update must fit on the page
        // of the row it replaces. Set before the column below, whose table rewrite then honours it.
        `ALTER TABLE ${table} SET (fillfactor = 80)`,
        // Generated, so writers of earlier releases (which do not know the column) keep it right.
        `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS expires_bucket bigint GENERATED ALWAYS AS (expires_at / ${EXPIRY_BUCKET_MS}) STORED`,
        `CREATE INDEX IF NOT EXISTS "${tableName}_by_user" ON ${table} (user_id)`,
        `CREATE INDEX IF NOT EXISTS "${tableName}_expiry" ON ${table} (expires_bucket)`,
        // Step 1's indexes on expires_at itself, on tables made before step 3: they make every
        // update that renews a session a non-HOT one.
        `DROP INDEX IF EXISTS ${qualifiedIndex(`${tableName}_user_id`)}`,
        `DROP INDEX IF EXISTS ${qualifiedIndex(`${tableName}_expires_at`)}`,
        updateProcedure(names),
        touchProcedure(names),
      ],
    },
  ]
}

// The procedures below commit the write, then send its event from a second transaction that does
// not wait for its WAL flush, all in one CALL (one round trip). PostgreSQL lets one transaction
// that sent a NOTIFY commit at a time, holding a lock through the commit's flush: a NOTIFY in the
// write's own (synchronously committed) transaction would make every write wait for a flush of its
// own (decision 036). The event is sent only after the write committed, and only when it can be:
// pg_notify refuses a payload of 8000 bytes or more, and a commit fails when the notification
// queue is full (a listener stopped reading), both after the write committed. Such an event is
// skipped instead (`notified` false, and the store logs it), so the caller never sees an error for
// a write that happened. A procedure that commits cannot run inside a transaction block; the store
// only calls them on connections of its pool that are idle.

/**
 * `CALL <table>_update(id, expected version, user id, data, last active, expires, metadata, now,
 * channel, payload, NULL, NULL, NULL, NULL, NULL)`: the compare-and-set update. Returns `written`,
 * `notified` and, when nothing was written, the row as it is (which says why).
 */
function updateProcedure({ table, updateProcedure: name }: SessionTableNames): string {
  return `CREATE OR REPLACE PROCEDURE ${name}(
  p_id text, p_expected_version integer, p_user_id text, p_data text, p_last_active_at bigint, p_expires_at bigint,
  p_metadata text, p_now bigint, p_channel text, p_payload text,
  INOUT written boolean DEFAULT NULL, INOUT notified boolean DEFAULT NULL, INOUT previous_user_id text DEFAULT NULL,
  INOUT previous_version integer DEFAULT NULL, INOUT previous_expires_at bigint DEFAULT NULL
) LANGUAGE plpgsql AS $pikku$
BEGIN
  UPDATE ${table} SET data = p_data, version = version + 1, last_active_at = p_last_active_at, expires_at = p_expires_at,
    metadata = COALESCE(p_metadata, metadata)
  WHERE id = p_id AND version = p_expected_version AND expires_at > p_now AND user_id = p_user_id;
  written := FOUND;
  IF NOT written THEN
    SELECT user_id, version, expires_at INTO previous_user_id, previous_version, previous_expires_at FROM ${table} WHERE id = p_id;
    RETURN;
  END IF;
  COMMIT;
  notified := octet_length(p_payload) < 8000 AND pg_notification_queue_usage() < 0.5;
  IF notified THEN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_notify(p_channel, p_payload);
  END IF;
END
$pikku$`
}

/**
 * `CALL <table>_touch(id, last active, expires, now, channel, before, after, NULL, NULL, NULL)`:
 * renews a live session. Its event is `before || <user id as JSON> || ',"version":' || <version> ||
 * after`, the two values the caller does not know filled in from the row. Returns the row's
 * `user_id` and `version` (NULL when no live session was renewed) and `notified`.
 */
function touchProcedure({ table, touchProcedure: name }: SessionTableNames): string {
  return `CREATE OR REPLACE PROCEDURE ${name}(
  p_id text, p_last_active_at bigint, p_expires_at bigint, p_now bigint, p_channel text, p_before text, p_after text,
  INOUT touched_user_id text DEFAULT NULL, INOUT touched_version integer DEFAULT NULL, INOUT notified boolean DEFAULT NULL
) LANGUAGE plpgsql AS $pikku$
DECLARE
  payload text;
BEGIN
  UPDATE ${table} SET last_active_at = p_last_active_at, expires_at = p_expires_at WHERE id = p_id AND expires_at > p_now
  RETURNING user_id, version INTO touched_user_id, touched_version;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  COMMIT;
  payload := p_before || to_json(touched_user_id)::text || ',"version":' || touched_version || p_after;
  notified := octet_length(payload) < 8000 AND pg_notification_queue_usage() < 0.5;
  IF notified THEN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_notify(p_channel, payload);
  END IF;
END
$pikku$`
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
