const APP_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** App names become a directory and an environment variable prefix, so they are kept simple. */
export function assertAppName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !APP_PATTERN.test(name)) {
    throw new TypeError(
      `wireCLI: program.name must be lower-case letters, digits, '.', '_' or '-' (it names the config directory); got ${JSON.stringify(name)}`,
    )
  }
}

/** The environment variable prefix of an app: `pikku-demo` → `PIKKU_DEMO`. */
export function envPrefix(app: string): string {
  return app.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '')
}

/** The environment variables a CLI reads. */
export interface CLIEnvironmentNames {
  /** A token that overrides the credentials file (for CI): `<APP>_TOKEN`. */
  readonly token: string
  /** The default profile: `<APP>_PROFILE`. */
  readonly profile: string
  /** The default server (remote mode): `<APP>_SERVER`. */
  readonly server: string
  /** `1`: keep secrets in the credentials file when no OS keychain is reachable: `<APP>_INSECURE_STORAGE`. */
  readonly insecureStorage: string
}

export function environmentNames(app: string): CLIEnvironmentNames {
  const prefix = envPrefix(app)
  return { token: `${prefix}_TOKEN`, profile: `${prefix}_PROFILE`, server: `${prefix}_SERVER`, insecureStorage: `${prefix}_INSECURE_STORAGE` }
}
