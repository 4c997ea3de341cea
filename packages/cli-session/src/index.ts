export { wireCLI, type PikkuCLI } from './lib/wire-cli.js'
export type { WireCLIOptions, CLIProgram, CLICommandEntry, CLIIO } from './lib/cli-options.js'
export type { CLICommandConfig, CLISessionRole } from './lib/cli-command.js'
export type { CLIWireInfo } from './lib/cli-wire.js'
export type { LocalRuntime } from './lib/local-call.js'
export type { RemoteOptions } from './lib/remote-call.js'
export { exitCodes, exitCodeFor, type CLIExitCode } from './lib/exit-codes.js'
export {
  type CredentialStore,
  type StoredCredential,
  type OAuthCredential,
  type CredentialLoadResult,
  type CredentialProblem,
  CredentialStoreError,
} from './lib/credential-store.js'
export { createFileCredentialStore, defaultCredentialsDirectory, type FileCredentialStoreOptions } from './lib/file-credential-store.js'
export { defaultCredentialStore, createKeychainCredentialStore, type KeychainCredentialStoreOptions } from './lib/keychain-credential-store.js'
export { osKeychain, KeychainUnavailableError, type SecretVault } from './lib/os-keychain.js'
export { parseCredentials, serializeCredentials, CREDENTIALS_FORMAT_VERSION, type CredentialParseResult } from './lib/credential-format.js'
export { environmentNames, type CLIEnvironmentNames } from './lib/app-name.js'
export { flagsFromSchema, toFlagName, type InputFlag, type FlagKind } from './lib/input-flags.js'
export { formatHuman } from './lib/human-output.js'
export { normalizeServerUrl, LOCAL_ORIGIN } from './lib/server-url.js'
