import type { CredentialLoadResult, CredentialStore, StoredCredential } from './credential-store.js'
import { CredentialStoreError } from './credential-store.js'
import { environmentNames } from './app-name.js'
import { createFileCredentialStore, defaultCredentialsDirectory } from './file-credential-store.js'
import { KeychainUnavailableError, osKeychain, type SecretVault } from './os-keychain.js'

/**
 * The store a `wireCLI` app keeps its logins in by default: secrets in the OS keychain (service
 * `<app>`), the rest in `$XDG_CONFIG_HOME/<app>`. Other programs of the app that read the CLI's
 * login (a stdio MCP server) open the same store with this.
 */
export function defaultCredentialStore(
  app: string,
  env: Readonly<Record<string, string | undefined>>,
  options: { insecureStorage?: boolean; warn?: (line: string) => void } = {},
): CredentialStore {
  const names = environmentNames(app)
  return createKeychainCredentialStore({
    file: createFileCredentialStore({ directory: defaultCredentialsDirectory(app, env) }),
    vault: osKeychain(app),
    insecureFallback: options.insecureStorage === true || env[names.insecureStorage] === '1',
    insecureHint: `--insecure-storage or ${names.insecureStorage}=1`,
    warn: options.warn ?? ((line) => process.stderr.write(`${line}\n`)),
  })
}

/** What the file holds instead of a secret kept in the keychain. */
const PLACEHOLDER = 'keychain'

export interface KeychainCredentialStoreOptions {
  /** Holds the non-secret part (server, expiry, client id) and, as the fallback, everything. */
  readonly file: CredentialStore
  readonly vault: SecretVault
  /**
   * Whether a secret may be written to the file when the keychain cannot be reached
   * (`--insecure-storage`, or `<APP>_INSECURE_STORAGE=1`). Each such write is announced.
   */
  readonly insecureFallback: boolean
  /** The flag and the setting to name in messages. */
  readonly insecureHint: string
  readonly warn: (line: string) => void
}

/**
 * Secrets in the OS keychain, keyed by server and profile; the credentials file keeps only what is
 * not secret. Without a reachable keychain, the file keeps the secrets only when the user said so
 * explicitly, and is told every time a secret is written there: a silent plaintext fallback is
 * what people complain about in other CLIs (cli/cli #10108).
 */
export function createKeychainCredentialStore(options: KeychainCredentialStoreOptions): CredentialStore {
  const { file, vault } = options
  const account = (profile: string, origin: string): string => `${origin} ${profile}`
  const lastWritten = new Map<string, 'keychain' | 'file'>()

  const store: CredentialStore = {
    describe(profile) {
      return lastWritten.get(profile) === 'keychain' ? `${vault.name} (details in ${file.describe(profile)})` : file.describe(profile)
    },

    async load(profile): Promise<CredentialLoadResult> {
      const found = await file.load(profile)
      if (found.kind !== 'ok' || found.credential.storage !== 'keychain') return found
      const { credential } = found
      let secret: string | undefined
      try {
        secret = await vault.get(account(profile, credential.origin))
      } catch (error) {
        return { kind: 'invalid', problem: 'unreadable', detail: `${vault.name} cannot be reached (${(error as Error).message})`, location: file.describe(profile) }
      }
      // The keychain entry was deleted by hand: nothing to log in with.
      if (secret === undefined) return { kind: 'none' }
      const parsed = parseSecret(secret)
      if (parsed === undefined) return { kind: 'invalid', problem: 'malformed', detail: `its ${vault.name} entry is damaged`, location: file.describe(profile) }
      return {
        kind: 'ok',
        credential: {
          ...credential,
          token: parsed.token,
          ...(credential.oauth === undefined || parsed.refreshToken === undefined ? {} : { oauth: { ...credential.oauth, refreshToken: parsed.refreshToken } }),
        },
      }
    },

    async save(profile, given) {
      // Where it was kept before is decided again here.
      const { storage: _previous, ...credential } = given
      const secret = JSON.stringify({ token: credential.token, ...(credential.oauth === undefined ? {} : { refreshToken: credential.oauth.refreshToken }) })
      try {
        await vault.set(account(profile, credential.origin), secret)
      } catch (error) {
        if (!(error instanceof KeychainUnavailableError)) throw error
        if (!options.insecureFallback) {
          throw new CredentialStoreError(
            `${vault.name} cannot be reached (${error.message}), so the login was not saved. To keep it in ${file.describe(profile)} (mode 0600, readable by anything running as you) instead, use ${options.insecureHint}.`,
          )
        }
        await file.save(profile, credential)
        lastWritten.set(profile, 'file')
        options.warn(`Warning: ${vault.name} cannot be reached; the secret was written in plain text to ${file.describe(profile)} (${options.insecureHint}).`)
        return
      }
      const metadata: StoredCredential = {
        ...credential,
        token: PLACEHOLDER,
        storage: 'keychain',
        ...(credential.oauth === undefined ? {} : { oauth: { ...credential.oauth, refreshToken: PLACEHOLDER } }),
      }
      await file.save(profile, metadata)
      lastWritten.set(profile, 'keychain')
    },

    async remove(profile) {
      const found = await file.load(profile)
      if (found.kind === 'ok' && found.credential.storage === 'keychain') {
        await vault.delete(account(profile, found.credential.origin)).catch(() => false)
      }
      lastWritten.delete(profile)
      return file.remove(profile)
    },
  }
  // Registered client ids are not secrets: they stay in the file store.
  if (file.registeredClient !== undefined) store.registeredClient = file.registeredClient.bind(file)
  if (file.keepRegisteredClient !== undefined) store.keepRegisteredClient = file.keepRegisteredClient.bind(file)
  if (file.list !== undefined) store.list = file.list.bind(file)
  if (file.active !== undefined) store.active = file.active.bind(file)
  if (file.setActive !== undefined) store.setActive = file.setActive.bind(file)
  if (file.withLock !== undefined) {
    const lock = file.withLock.bind(file)
    store.withLock = (profile, operation) => lock(profile, operation)
  }
  return store
}

function parseSecret(text: string): { token: string; refreshToken?: string } | undefined {
  try {
    const value = JSON.parse(text) as unknown
    if (typeof value !== 'object' || value === null) return undefined
    const { token, refreshToken } = value as Record<string, unknown>
    if (typeof token !== 'string') return undefined
    if (refreshToken !== undefined && typeof refreshToken !== 'string') return undefined
    return refreshToken === undefined ? { token } : { token, refreshToken }
  } catch {
    return undefined
  }
}
