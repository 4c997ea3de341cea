import { createRequire } from 'node:module'

// The parts of @opentelemetry/api this package calls, declared here so that neither its types nor
// its code are needed by an app that does not install it.

export type TelemetryAttributes = Record<string, string>

export interface TelemetrySpan {
  setAttribute(key: string, value: string): unknown
  setStatus(status: { code: number; message?: string }): unknown
  recordException(exception: Error): unknown
  end(): void
}

export interface TelemetryTracer {
  startActiveSpan<T>(name: string, options: { attributes?: TelemetryAttributes }, run: (span: TelemetrySpan) => T): T
}

export interface TelemetryCounter {
  add(value: number, attributes?: TelemetryAttributes): void
}

export interface TelemetryMeter {
  createCounter(name: string, options?: { description?: string; unit?: string }): TelemetryCounter
}

/** The `@opentelemetry/api` module, or anything with its `trace` and `metrics` entry points. */
export interface OpenTelemetryApi {
  readonly trace: { getTracer(name: string, version?: string): TelemetryTracer }
  readonly metrics: { getMeter(name: string, version?: string): TelemetryMeter }
}

/** `SpanStatusCode.ERROR` of the API (a stable number of the specification). */
export const SPAN_STATUS_ERROR = 2

/**
 * `@opentelemetry/api` when the app installed it, else undefined. Loaded with `require` when the
 * telemetry is set up, never by importing this package, so an app without it pays nothing and
 * gets no import error.
 */
export function loadOpenTelemetryApi(): OpenTelemetryApi | undefined {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetryApi
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw error
  }
}
