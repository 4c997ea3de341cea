export { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from './lib/sqlite-store.js'
export { SQLITE_DRIVERS, type SqliteDriverName } from './lib/sqlite-driver.js'
