/** Where secrets go when the OS has a keychain: one entry per service and account. */
export interface SecretVault {
  /** For messages: `the OS keychain`. */
  readonly name: string
  set(account: string, secret: string): Promise<void>
  /** Undefined when there is no such entry. */
  get(account: string): Promise<string | undefined>
  /** True when there was an entry. */
  delete(account: string): Promise<boolean>
}

/** The keychain could not be reached (no Secret Service on Linux, a locked keychain, no binding for this platform). */
export class KeychainUnavailableError extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options)
    this.name = 'KeychainUnavailableError'
  }
}

type KeyringModule = typeof import('@napi-rs/keyring')

let binding: Promise<KeyringModule> | undefined

/**
 * The OS keychain through `@napi-rs/keyring` (macOS Keychain, Windows Credential Manager, the
 * Secret Service on Linux), entries under `service`. The binding is loaded on first use, so a
 * platform without a prebuilt binary only loses the keychain, not the CLI.
 */
export function osKeychain(service: string): SecretVault {
  const entry = async (account: string): Promise<InstanceType<KeyringModule['AsyncEntry']>> => {
    binding ??= import('@napi-rs/keyring')
    let module: KeyringModule
    try {
      module = await binding
    } catch (error) {
      throw new KeychainUnavailableError('no keychain binding for this platform', { cause: error })
    }
    return new module.AsyncEntry(service, account)
  }
  const unavailable = (error: unknown): KeychainUnavailableError =>
    error instanceof KeychainUnavailableError ? error : new KeychainUnavailableError(error instanceof Error ? error.message.slice(0, 200) : String(error), { cause: error })
  return {
    name: 'the OS keychain',
    async set(account, secret) {
      try {
        await (await entry(account)).setPassword(secret)
      } catch (error) {
        throw unavailable(error)
      }
    },
    async get(account) {
      try {
        return (await (await entry(account)).getPassword()) ?? undefined
      } catch (error) {
        if (/no matching entry|not found/i.test(String((error as Error)?.message))) return undefined
        throw unavailable(error)
      }
    },
    async delete(account) {
      try {
        return await (await entry(account)).deleteCredential()
      } catch (error) {
        if (/no matching entry|not found/i.test(String((error as Error)?.message))) return false
        throw unavailable(error)
      }
    },
  }
}
