import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// What a user outside this repository does before the packages are published: `pnpm pack` them,
// `npm install` the tarballs into an app of their own, compile it with TypeScript, run it. Nothing
// here resolves through the monorepo: the app lives in a temporary directory, and npm resolves
// every dependency and peer dependency from the tarballs and the npm registry (or its cache).

const execFileAsync = promisify(execFile)
/** Runs a command; a failure's message carries its output (tsc reports errors on stdout). */
async function run(command: string, args: string[], options: { cwd: string }): Promise<void> {
  try {
    await execFileAsync(command, args, options)
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`)
  }
}
const repository = fileURLToPath(new URL('../../..', import.meta.url))
const appSource = fileURLToPath(new URL('../app', import.meta.url))
const PACKED = ['core', 'http', 'middleware-http-session', 'session-store-redis']
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'
const keyPrefix = `pikku-test:packed-install:${randomBytes(6).toString('hex')}`

/** pnpm itself: the one running this test when it runs under `pnpm test`, else the one on PATH. */
function pnpm(): [string, string[]] {
  const execPath = process.env['npm_execpath']
  if (execPath === undefined || !/pnpm/.test(execPath)) return ['pnpm', []]
  // pnpm's npm package is a JavaScript file up to v10 and a native executable from v11 on.
  return /\.[cm]?js$/.test(execPath) ? [process.execPath, [execPath]] : [execPath, []]
}

async function redisUp(): Promise<boolean> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 1_000, reconnectStrategy: false } })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
    return true
  } catch {
    return false
  } finally {
    if (client.isOpen) client.destroy()
  }
}

describe('the packed tarballs installed with npm into an app outside the monorepo', () => {
  const work = mkdtempSync(join(tmpdir(), 'pikku-packed-install-'))
  const app = join(work, 'app')
  let server: ChildProcess | undefined
  let base = ''
  let withRedis = false

  beforeAll(async () => {
    withRedis = await redisUp()
    const tarballs = join(work, 'tarballs')
    mkdirSync(tarballs)
    const [command, prefix] = pnpm()
    // pnpm pack turns `workspace:^` into the real version ranges, as publishing does.
    for (const name of PACKED) await run(command, [...prefix, 'pack', '--pack-destination', tarballs], { cwd: join(repository, 'packages', name) })
    const packed = readdirSync(tarballs)
    const tarball = (name: string): string => {
      const file = packed.find((entry) => entry.startsWith(`pikku-${name}-`) && entry.endsWith('.tgz'))
      if (file === undefined) throw new Error(`pnpm pack made no tarball for @pikku/${name}: ${packed.join(', ')}`)
      return `file:../tarballs/${file}`
    }
    mkdirSync(app)
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'packed-install-app',
        private: true,
        type: 'module',
        dependencies: { ...Object.fromEntries(PACKED.map((name) => [`@pikku/${name}`, tarball(name)])), redis: '^5.0.0' },
        devDependencies: { '@types/node': '^20.19.0' },
      }),
    )
    copyFileSync(join(appSource, 'server.ts'), join(app, 'server.ts'))
    copyFileSync(join(appSource, 'tsconfig.json'), join(app, 'tsconfig.json'))
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: app })
    // Any TypeScript compiles the app; this repository's is at hand. (The shipped declarations
    // themselves are checked by each package's lint: are-the-types-wrong.)
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { cwd: app })

    server = spawn(process.execPath, [join(app, 'dist', 'server.js')], {
      cwd: app,
      env: { PATH: process.env['PATH'] ?? '', ...(withRedis ? { REDIS_URL: redisUrl, KEY_PREFIX: keyPrefix } : {}) },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const started = server
    base = await new Promise<string>((resolve, reject) => {
      let output = ''
      started.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const port = /listening (\d+)/.exec(output)?.[1]
        if (port !== undefined) resolve(`http://127.0.0.1:${port}`)
      })
      started.once('exit', (code) => reject(new Error(`the app exited with ${code} before listening: ${output}`)))
    })
  })

  afterAll(async () => {
    if (server !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve))
      server.stdin?.end()
      const timer = setTimeout(() => server?.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
    if (withRedis) {
      const client = createClient({ url: redisUrl })
      client.on('error', () => undefined)
      await client.connect()
      for await (const keys of client.scanIterator({ MATCH: `${keyPrefix}:*`, COUNT: 1000 })) if (keys.length > 0) await client.del(keys)
      client.destroy()
    }
    rmSync(work, { recursive: true, force: true })
  })

  it('installs this repository’s 1.x packages, with one copy of redis shared by the app and the store', () => {
    for (const name of PACKED) {
      const manifest = JSON.parse(readFileSync(join(app, 'node_modules', '@pikku', name, 'package.json'), 'utf8')) as { version: string }
      expect(manifest.version).toMatch(/^1\./)
    }
    expect(existsSync(join(app, 'node_modules', 'redis', 'package.json'))).toBe(true)
    // A peer dependency: npm never nests a second copy under the store.
    expect(existsSync(join(app, 'node_modules', '@pikku', 'session-store-redis', 'node_modules', 'redis'))).toBe(false)
  })

  it('serves a login and then the profile of the session it started; no cookie is a 401', async () => {
    const refused = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@example.com', password: 'wrong' }),
    })
    expect(refused.status).toBe(401)
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@example.com', password: 'right-password' }),
    })
    expect(login.status).toBe(200)
    const cookie = login.headers.getSetCookie()[0]?.split(';', 1)[0]
    expect(cookie).toBeDefined()
    const profile = await fetch(`${base}/profile`, { headers: { cookie: cookie! } })
    expect(profile.status).toBe(200)
    expect(await profile.json()).toEqual({ userId: 'alice@example.com', email: 'alice@example.com' })
    expect((await fetch(`${base}/profile`)).status).toBe(401)
  })
})
