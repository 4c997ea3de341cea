import { randomBytes } from 'node:crypto'
import { constants, promises as fs, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseCredentials, serializeCredentials } from './credential-format.js'
import { type CredentialLoadResult, type CredentialStore, CredentialStoreError, type StoredCredential } from './credential-store.js'
import { assertProfileName, isProfileName } from './profile-name.js'
import { parseRegisteredClients, serializeRegisteredClients } from './registered-clients.js'

export interface FileCredentialStoreOptions {
  /**
   * The directory holding the credentials files.
   * @default `$XDG_CONFIG_HOME/<app>`, or `~/.config/<app>` when XDG_CONFIG_HOME is unset or relative
   */
  directory: string
}

/** Largest file read; what this store writes is a few hundred bytes. */
const MAX_FILE_BYTES = 64 * 1024
const DIRECTORY_MODE = 0o700
const FILE_MODE = 0o600
/** Names the account (profile) used when none is given: written by `<app> switch`. */
const ACTIVE_FILE = 'active-account'
/** The client id registered at each server, reused by browser and device logins. */
const CLIENTS_FILE = 'clients.json'

/**
 * `$XDG_CONFIG_HOME/<app>`, or `~/.config/<app>`. A relative XDG_CONFIG_HOME is ignored, as the
 * XDG Base Directory specification requires.
 */
export function defaultCredentialsDirectory(app: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env['XDG_CONFIG_HOME']
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(env['HOME'] ?? homedir(), '.config')
  return join(base, app)
}

/**
 * Credentials as one small JSON file per profile, `<directory>/credentials.<profile>.json`
 * (format version 1, see `parseCredentials`).
 *
 * - The directory is created with mode 0700 and each file with 0600, by passing the mode to
 *   `mkdir`/`open`: the file never exists with wider permissions, not even for an instant.
 * - Writes go to a temporary file in the same directory that is then renamed over the old one, so
 *   a crash leaves either the old or the new credential, never half of one.
 * - Reads refuse symbolic links, files owned by another user, files readable or writable by group
 *   or others, and directories owned by another user or writable by group or others, reporting
 *   why instead of failing; writes and deletes refuse such a directory too.
 * - One file per profile keeps concurrent logins to different profiles from overwriting each other.
 */
export function createFileCredentialStore(options: FileCredentialStoreOptions): CredentialStore {
  const directory = options.directory
  if (typeof directory !== 'string' || !directory.startsWith('/')) {
    throw new TypeError(`createFileCredentialStore needs an absolute directory; got ${JSON.stringify(directory)}`)
  }
  const fileFor = (profile: string): string => {
    assertProfileName(profile)
    return join(directory, `credentials.${profile}.json`)
  }

  const checkDirectory = async (): Promise<CredentialLoadResult | undefined> => {
    let stat
    try {
      stat = await fs.lstat(directory)
    } catch {
      return undefined
    }
    if (!stat.isDirectory()) {
      return { kind: 'invalid', problem: 'not-a-file', detail: `${directory} is not a directory`, location: directory }
    }
    // Whoever owns the directory can swap the files in it, whatever their own modes say.
    const uid = process.getuid?.()
    if (uid !== undefined && stat.uid !== uid) {
      return {
        kind: 'invalid',
        problem: 'directory-owner',
        detail: `its directory ${directory} belongs to user id ${stat.uid}, not to you (${uid})`,
        location: directory,
      }
    }
    if ((stat.mode & 0o022) !== 0) {
      return {
        kind: 'invalid',
        problem: 'directory-permissions',
        detail: `its directory ${directory} is writable by other users (mode ${octal(stat.mode)})`,
        location: directory,
      }
    }
    return undefined
  }

  /** Writes through a private temporary file (O_EXCL, 0600) renamed into place, then syncs the directory. */
  const writeAtomically = async (path: string, temporaryPrefix: string, content: string, what: string): Promise<void> => {
    try {
      await fs.mkdir(directory, { recursive: true, mode: DIRECTORY_MODE })
    } catch (error) {
      throw new CredentialStoreError(`Cannot create ${directory} (${errorCode(error)})`, { cause: error })
    }
    const problem = await checkDirectory()
    if (problem !== undefined && problem.kind === 'invalid') {
      throw new CredentialStoreError(`Refusing to save ${what}: ${problem.detail}. Run \`chmod 700 ${directory}\` and try again.`)
    }
    const temporary = join(directory, `${temporaryPrefix}.${randomBytes(6).toString('hex')}.tmp`)
    let handle: fs.FileHandle | undefined
    try {
      // O_EXCL + O_NOFOLLOW: never write through a file or link someone else placed here.
      handle = await fs.open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE)
      await handle.writeFile(content, 'utf8')
      await handle.sync()
      await handle.close()
      handle = undefined
      await fs.rename(temporary, path)
    } catch (error) {
      await handle?.close().catch(() => {})
      await fs.rm(temporary, { force: true }).catch(() => {})
      throw new CredentialStoreError(`Cannot write ${path} (${errorCode(error)})`, { cause: error })
    }
    await syncDirectory(directory)
  }

  /** Client ids are not secrets, but only a file of our own in our own directory is trusted. */
  const readRegisteredClients = async (): Promise<Map<string, string>> => {
    if ((await checkDirectory()) !== undefined) return new Map()
    let handle: fs.FileHandle
    try {
      handle = await fs.open(join(directory, CLIENTS_FILE), constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch {
      return new Map()
    }
    try {
      const stat = await handle.stat()
      const uid = process.getuid?.()
      if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0 || stat.size > MAX_FILE_BYTES) return new Map()
      return parseRegisteredClients(await readAll(handle, stat.size))
    } catch {
      return new Map()
    } finally {
      await handle.close()
    }
  }

  return {
    describe: fileFor,

    async load(profile) {
      const path = fileFor(profile)
      const directoryProblem = await checkDirectory()
      if (directoryProblem !== undefined) return directoryProblem
      let handle: fs.FileHandle
      try {
        // O_NOFOLLOW: a symbolic link planted in place of the file is refused, not followed.
        handle = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ENOENT') return { kind: 'none' }
        if (code === 'ELOOP') return { kind: 'invalid', problem: 'not-a-file', detail: 'it is a symbolic link', location: path }
        return { kind: 'invalid', problem: 'unreadable', detail: `it cannot be read (${code ?? 'unknown error'})`, location: path }
      }
      try {
        const stat = await handle.stat()
        if (!stat.isFile()) return { kind: 'invalid', problem: 'not-a-file', detail: 'it is not a regular file', location: path }
        const uid = process.getuid?.()
        if (uid !== undefined && stat.uid !== uid) {
          return { kind: 'invalid', problem: 'owner', detail: `it belongs to user id ${stat.uid}, not ${uid}`, location: path }
        }
        if (stat.size > MAX_FILE_BYTES) {
          return { kind: 'invalid', problem: 'too-large', detail: `it is ${stat.size} bytes`, location: path }
        }
        const bytes = await readAll(handle, stat.size)
        const parsed = parseCredentials(bytes)
        if ((stat.mode & 0o077) !== 0) {
          return {
            kind: 'invalid',
            problem: 'permissions',
            detail: `it can be accessed by other users (mode ${octal(stat.mode)})`,
            location: path,
            ...(parsed.ok ? { credential: parsed.credential } : {}),
          }
        }
        if (!parsed.ok) return { kind: 'invalid', problem: parsed.problem, detail: parsed.detail, location: path }
        return { kind: 'ok', credential: parsed.credential }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        return { kind: 'invalid', problem: 'unreadable', detail: `it cannot be read (${code ?? 'unknown error'})`, location: path }
      } finally {
        await handle.close()
      }
    },

    async save(profile, credential) {
      await writeAtomically(fileFor(profile), `.credentials.${profile}`, serializeCredentials(credential), 'credentials')
    },

    async list() {
      let names: string[]
      try {
        names = await fs.readdir(directory)
      } catch {
        return []
      }
      return names
        .map((name) => /^credentials\.([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.json$/.exec(name)?.[1])
        .filter((profile): profile is string => profile !== undefined)
        .sort()
    },

    active() {
      // Read synchronously: the profile decides which file every later step reads.
      try {
        const name = readFileSync(join(directory, ACTIVE_FILE), 'utf8').trim()
        return isProfileName(name) ? name : undefined
      } catch {
        return undefined
      }
    },

    async setActive(profile) {
      assertProfileName(profile)
      await writeAtomically(join(directory, ACTIVE_FILE), '.active-account', `${profile}\n`, 'the active account')
    },

    async registeredClient(server) {
      return (await readRegisteredClients()).get(server)
    },

    async keepRegisteredClient(server, clientId) {
      const clients = await readRegisteredClients()
      // Re-inserted last, so the oldest registrations are the ones dropped beyond the limit.
      clients.delete(server)
      clients.set(server, clientId)
      await writeAtomically(join(directory, CLIENTS_FILE), '.clients', serializeRegisteredClients(clients), 'the registered client')
    },

    async withLock(profile, operation) {
      const path = fileFor(profile)
      await fs.mkdir(directory, { recursive: true, mode: DIRECTORY_MODE })
      let release: () => Promise<void>
      try {
        // A lock directory next to the file (mkdir is atomic); one left by a crashed process is
        // taken over once it has not been touched for `stale` ms.
        // Loaded only when a login is renewed: other commands do not pay for it at start-up.
        const { default: lockfile } = await import('proper-lockfile')
        release = await lockfile.lock(path, { realpath: false, stale: 15_000, update: 5_000, retries: { retries: 100, factor: 1.2, minTimeout: 25, maxTimeout: 250 } })
      } catch (error) {
        throw new CredentialStoreError(`Could not lock ${path} to renew the login (${(error as { code?: string }).code ?? String(error)})`, { cause: error })
      }
      try {
        return await operation()
      } finally {
        await release().catch(() => {})
      }
    },

    async remove(profile) {
      const path = fileFor(profile)
      const problem = await checkDirectory()
      if (problem !== undefined && problem.kind === 'invalid') {
        throw new CredentialStoreError(`Refusing to touch the credentials in ${directory}: ${problem.detail}.`)
      }
      try {
        await fs.unlink(path)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
        throw new CredentialStoreError(`Cannot delete ${path} (${errorCode(error)})`, { cause: error })
      }
      await syncDirectory(directory)
      return true
    },
  }
}

async function readAll(handle: fs.FileHandle, size: number): Promise<Uint8Array> {
  // Read at most one byte past the limit, whatever stat said, in case the file grows meanwhile.
  const buffer = Buffer.alloc(Math.min(size, MAX_FILE_BYTES) + 1)
  let length = 0
  while (length < buffer.length) {
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length)
    if (bytesRead === 0) break
    length += bytesRead
  }
  return buffer.subarray(0, length)
}

async function syncDirectory(directory: string): Promise<void> {
  // Makes the rename durable; not every file system allows opening a directory, so best effort.
  try {
    const handle = await fs.open(directory, constants.O_RDONLY)
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // ignored: durability of the rename is a bonus, not a requirement
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? (error instanceof Error ? error.message : String(error))
}
