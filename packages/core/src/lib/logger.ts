export type LogMeta = Record<string, unknown>

/** The logging interface core and the protocol packages write to. */
export interface Logger {
  debug(message: string, meta?: LogMeta): void
  info(message: string, meta?: LogMeta): void
  warn(message: string, meta?: LogMeta): void
  error(message: string, meta?: LogMeta): void
}

function write(stream: 'log' | 'warn' | 'error', level: string, message: string, meta?: LogMeta): void {
  // eslint-disable-next-line no-console
  if (meta === undefined) console[stream](`[${level}] ${message}`)
  // eslint-disable-next-line no-console
  else console[stream](`[${level}] ${message}`, meta)
}

/** Writes to the console; debug lines are dropped unless `debug` is true. */
export function createConsoleLogger(options: { debug?: boolean } = {}): Logger {
  return {
    debug: (message, meta) => {
      if (options.debug) write('log', 'debug', message, meta)
    },
    info: (message, meta) => write('log', 'info', message, meta),
    warn: (message, meta) => write('warn', 'warn', message, meta),
    error: (message, meta) => write('error', 'error', message, meta),
  }
}

/** Discards everything; for tests and embedding. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
}
