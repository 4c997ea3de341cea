export { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from './lib/sqlite-store.js'
