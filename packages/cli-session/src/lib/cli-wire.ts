/** What a function can learn about a CLI call, as `wire.cli` (local mode only). */
export interface CLIWireInfo {
  /** The command typed, e.g. `profile`. */
  readonly command: string
  /** The credentials profile in use. */
  readonly profile: string
  /** True inside the interactive shell. */
  readonly interactive: boolean
  /**
   * Aborted when the user presses Ctrl-C. The CLI stops waiting at once and does not persist the
   * call's session changes; long-running functions should stop their work when it fires.
   */
  readonly signal: AbortSignal
}

declare module '@pikku/core' {
  interface PikkuWire {
    /** Set for calls made through `@pikku/cli-session` in local mode. */
    readonly cli?: CLIWireInfo
  }
}
