import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CredentialStore } from './credential-store.js'
import { createFileCredentialStore, defaultCredentialsDirectory } from './file-credential-store.js'

let root: string
let directory: string
let store: CredentialStore
const credential = { origin: 'http://127.0.0.1:3000', token: 'tok_123-abc', savedAt: 1_800_000_000_000 }

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pikku-credstore-'))
  directory = join(root, 'config', 'app')
  store = createFileCredentialStore({ directory })
})
afterEach(() => {
  rmSync(root, { recursive: true, force: true })
})

const fileOf = (profile = 'default'): string => join(directory, `credentials.${profile}.json`)
const writeRaw = (content: string | Uint8Array, mode = 0o600, profile = 'default'): void => {
  mkdirSync(directory, { recursive: true, mode: 0o700 })
  writeFileSync(fileOf(profile), content, { mode })
  // writeFileSync's mode is filtered by the umask; the test wants exactly this mode.
  chmodSync(fileOf(profile), mode)
}

describe('file credential store', () => {
  it('saves into a 0700 directory as a 0600 file and loads it back', async () => {
    await store.save('default', credential)
    expect(statSync(directory).mode & 0o777).toBe(0o700)
    expect(statSync(fileOf()).mode & 0o777).toBe(0o600)
    expect(await store.load('default')).toEqual({ kind: 'ok', credential })
  })

  it('an unknown profile has no credential', async () => {
    expect(await store.load('nobody')).toEqual({ kind: 'none' })
  })

  it('replaces atomically and leaves no temporary files behind', async () => {
    await store.save('default', credential)
    await store.save('default', { ...credential, token: 'second' })
    expect(readdirSync(directory)).toEqual(['credentials.default.json'])
    expect(await store.load('default')).toMatchObject({ kind: 'ok', credential: { token: 'second' } })
  })

  it('a temporary file left by a crashed write is ignored', async () => {
    await store.save('default', credential)
    writeFileSync(join(directory, '.credentials.default.abc123.tmp'), '{"version":1,"orig')
    expect(await store.load('default')).toEqual({ kind: 'ok', credential })
  })

  it('concurrent saves of different profiles keep both', async () => {
    await Promise.all(['a', 'b', 'c', 'd'].map((profile) => store.save(profile, { ...credential, token: `token-${profile}` })))
    for (const profile of ['a', 'b', 'c', 'd']) {
      expect(await store.load(profile)).toMatchObject({ kind: 'ok', credential: { token: `token-${profile}` } })
    }
  })

  it('remove deletes the file and says whether there was one', async () => {
    await store.save('default', credential)
    expect(await store.remove('default')).toBe(true)
    expect(await store.remove('default')).toBe(false)
    expect(await store.load('default')).toEqual({ kind: 'none' })
  })

  it.each([0o644, 0o640, 0o604, 0o660, 0o602])('refuses a file with mode %o, still handing the credential to logout', async (mode) => {
    writeRaw(readFileSync(await savedFile()), mode)
    const result = await store.load('default')
    expect(result).toMatchObject({ kind: 'invalid', problem: 'permissions', location: fileOf(), credential })
    expect(result.kind === 'invalid' && result.detail).toContain(`mode 0${mode.toString(8)}`)
  })

  it('refuses a directory that other users can write to', async () => {
    await store.save('default', credential)
    chmodSync(directory, 0o777)
    expect(await store.load('default')).toMatchObject({ kind: 'invalid', problem: 'directory-permissions' })
    await expect(store.save('default', credential)).rejects.toThrow(/chmod 700/)
  })

  it('refuses a symbolic link in place of the file', async () => {
    const elsewhere = join(root, 'elsewhere.json')
    writeFileSync(elsewhere, readFileSync(await savedFile()), { mode: 0o600 })
    rmSync(fileOf())
    symlinkSync(elsewhere, fileOf())
    expect(await store.load('default')).toMatchObject({ kind: 'invalid', problem: 'not-a-file', detail: 'it is a symbolic link' })
  })

  it('refuses a directory in place of the file', async () => {
    mkdirSync(fileOf(), { recursive: true })
    expect(await store.load('default')).toMatchObject({ kind: 'invalid', problem: 'not-a-file' })
  })

  it('refuses an oversized file without reading it all', async () => {
    writeRaw('x'.repeat(70_000))
    expect(await store.load('default')).toMatchObject({ kind: 'invalid', problem: 'too-large' })
  })

  it.runIf(process.getuid?.() === 0)('refuses a file owned by another user', async () => {
    await store.save('default', credential)
    chownSync(fileOf(), 4242, 4242)
    expect(await store.load('default')).toMatchObject({ kind: 'invalid', problem: 'owner', detail: 'it belongs to user id 4242, not 0' })
  })

  it('rejects profile names that could leave the directory', async () => {
    await expect(store.load('../x')).rejects.toThrow(/profile names/)
    await expect(store.save('a/b', credential)).rejects.toThrow(/profile names/)
    expect(() => store.describe('.hidden')).toThrow(/profile names/)
  })

  it('keeps one registered client id per server in clients.json (0600), not listed as an account', async () => {
    expect(await store.registeredClient?.('http://127.0.0.1:3000')).toBeUndefined()
    await store.keepRegisteredClient?.('http://127.0.0.1:3000', 'client-a')
    await store.keepRegisteredClient?.('https://app.example.com', 'client-b')
    await store.keepRegisteredClient?.('http://127.0.0.1:3000', 'client-c')
    expect(await store.registeredClient?.('http://127.0.0.1:3000')).toBe('client-c')
    expect(await store.registeredClient?.('https://app.example.com')).toBe('client-b')
    expect(statSync(join(directory, 'clients.json')).mode & 0o777).toBe(0o600)
    expect(await store.list?.()).toEqual([])
  })

  it('ignores a clients.json that others can write to (the CLI registers again)', async () => {
    await store.keepRegisteredClient?.('http://127.0.0.1:3000', 'client-a')
    chmodSync(join(directory, 'clients.json'), 0o666)
    expect(await store.registeredClient?.('http://127.0.0.1:3000')).toBeUndefined()
  })

  it('loading never throws, whatever bytes the file holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.jsonValue().map((value) => new TextEncoder().encode(JSON.stringify(value)))), async (bytes) => {
        writeRaw(bytes)
        const result = await store.load('default')
        expect(['ok', 'invalid']).toContain(result.kind)
      }),
      { numRuns: 300 },
    )
  })

  async function savedFile(): Promise<string> {
    await store.save('default', credential)
    return fileOf()
  }
})

describe('default credentials directory', () => {
  it('is $XDG_CONFIG_HOME/<app>', () => {
    expect(defaultCredentialsDirectory('app', { XDG_CONFIG_HOME: '/x/config', HOME: '/home/u' })).toBe('/x/config/app')
  })
  it('is ~/.config/<app> without XDG_CONFIG_HOME, or when it is relative', () => {
    expect(defaultCredentialsDirectory('app', { HOME: '/home/u' })).toBe('/home/u/.config/app')
    expect(defaultCredentialsDirectory('app', { HOME: '/home/u', XDG_CONFIG_HOME: 'relative' })).toBe('/home/u/.config/app')
  })
})
