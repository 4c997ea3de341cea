export {
  AUDIT_EVENT_TYPES,
  AUDIT_RECORD_FIELDS,
  DEFAULT_AUDITED_TYPES,
  parseAuditRecord,
  type AuditEventType,
  type AuditRecord,
} from './lib/audit-record.js'
export { type AuditSink } from './lib/audit-sink.js'
export { createSessionAudit, type SessionAudit, type SessionAuditOptions } from './lib/session-audit.js'
export { createFileAuditSink, type FileAuditSinkOptions } from './lib/file-sink.js'
export { createPostgresAuditSink, type PostgresAuditClient, type PostgresAuditSinkOptions } from './lib/postgres-sink.js'
export { createRedisAuditSink, type RedisAuditClient, type RedisAuditSinkOptions } from './lib/redis-sink.js'
export { instrumentSessionManager, type SessionTelemetryOptions } from './lib/session-telemetry.js'
export { type OpenTelemetryApi, type TelemetryCounter, type TelemetryMeter, type TelemetrySpan, type TelemetryTracer } from './lib/opentelemetry-api.js'
