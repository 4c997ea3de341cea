/** Table and schema names are written into SQL, so only plain identifiers are accepted. */
export function assertSqlIdentifier(value: unknown, option: string): asserts value is string {
  if (typeof value !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(value)) {
    throw new TypeError(`${option} must be a lower-case identifier (a letter or '_', then letters, digits or '_', at most 63); got ${JSON.stringify(value)}`)
  }
}
