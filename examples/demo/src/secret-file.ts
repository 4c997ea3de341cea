import { randomBytes } from 'node:crypto'
import { closeSync, constants, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * The demo's development signing key lives in `DATA_DIR/secret`. Whoever can read it can sign
 * bearer tokens for any user, so it is used only when it is a regular file of this user that
 * nobody else can read or write, and it is created with mode 0600 from the start.
 */
export class SecretFileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SecretFileError'
  }
}

/** The key in `file`, or undefined when there is none. Throws `SecretFileError` for an unsafe file. */
export function readSecretFile(file: string): string | undefined {
  let fd: number
  try {
    // O_NOFOLLOW: a link planted in place of the file could point at a key someone else controls.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    if (code === 'ELOOP') throw new SecretFileError(`${file} is a symbolic link; the signing key must be a regular file. Delete it to have a new key made.`)
    throw new SecretFileError(`${file} cannot be read (${code ?? String(error)})`)
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new SecretFileError(`${file} is not a regular file; delete it to have a new key made.`)
    const uid = process.getuid?.()
    if (uid !== undefined && stat.uid !== uid) {
      throw new SecretFileError(`${file} belongs to user id ${stat.uid}, not to this user (${uid}); delete it to have a new key made.`)
    }
    if ((stat.mode & 0o077) !== 0) {
      const mode = `0${(stat.mode & 0o777).toString(8)}`
      throw new SecretFileError(
        `${file} can be read or written by other users (mode ${mode}), so they could sign tokens as anyone. ` +
          `Delete it to have a new key made (tokens signed with the old one stop working), or run \`chmod 600 ${file}\` if nobody else can have read it.`,
      )
    }
    const secret = readFileSync(fd, 'utf8').trim()
    if (secret === '') throw new SecretFileError(`${file} is empty; delete it to have a new key made.`)
    return secret
  } finally {
    closeSync(fd)
  }
}

/**
 * The key in `file`, made first when there is none: written to a private temporary file (0600
 * from its creation, never chmod-ed) and linked into place, which fails if another process got
 * there first, so two processes starting together end up with the same key, never half of one.
 */
export function loadOrCreateSecretFile(file: string): string {
  const existing = readSecretFile(file)
  if (existing !== undefined) return existing
  const directory = dirname(file)
  mkdirSync(directory, { recursive: true, mode: 0o700 })
  const secret = randomBytes(32).toString('base64url')
  const temporary = join(directory, `.secret.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  try {
    writeSync(fd, `${secret}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(temporary, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    // Another process made the key meanwhile: use theirs.
    const theirs = readSecretFile(file)
    if (theirs === undefined) throw new SecretFileError(`${file} appeared and vanished while this process was creating it; start again.`)
    return theirs
  } finally {
    rmSync(temporary, { force: true })
  }
  return secret
}
