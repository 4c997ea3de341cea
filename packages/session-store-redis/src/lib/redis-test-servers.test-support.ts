import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { testServiceAvailable } from '@pikku/core/testing'

const run = promisify(execFile)
const serverBinary = process.env['REDIS_SERVER_BIN'] ?? 'redis-server'
const cliBinary = process.env['REDIS_CLI_BIN'] ?? 'redis-cli'

/** Whether throwaway Redis servers can be started here (skip locally, fail under CI: core's test-service policy). */
export function redisBinariesAvailable(purpose: string): Promise<boolean> {
  return testServiceAvailable({
    name: `redis-server and redis-cli (${purpose})`,
    where: `${serverBinary}, ${cliBinary}`,
    hint: 'install Redis, or set REDIS_SERVER_BIN / REDIS_CLI_BIN',
    probe: async () => {
      const missing = [serverBinary, cliBinary].filter((binary) => spawnSync(binary, ['--version']).status !== 0)
      if (missing.length > 0) throw new Error(`${missing.join(' and ')} not found`)
    },
  })
}

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A Redis Cluster of three primaries on free ports, each in its own directory. */
export interface TestCluster {
  readonly urls: string[]
  readonly ports: number[]
  /** SIGKILLs one node (its append-only file keeps every acknowledged write). */
  kill(index: number): Promise<void>
  /** Starts a killed node again from its directory; it rejoins with its saved cluster config. */
  restart(index: number): Promise<void>
  stop(): Promise<void>
}

/** A test server process ended while it was awaited (for Redis: it could not bind its ports). */
class NodeExited extends Error {
  constructor(port: number) {
    super(`redis-server on port ${port} exited while starting`)
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    const done = await check().catch((error: unknown) => {
      if (error instanceof NodeExited) throw error
      return false
    })
    if (done) return
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function startTestCluster(): Promise<TestCluster> {
  const root = mkdtempSync(join(tmpdir(), 'pikku-redis-cluster-'))
  const ports: number[] = []
  // Each node's cluster bus port is chosen free as well and passed as --cluster-port. By default
  // Redis uses port + 10000, which for a free port from the upper ephemeral range (above 55535)
  // does not exist, and for any other may be taken: the node then refuses to start.
  const busPorts: number[] = []
  const children: (ChildProcess | undefined)[] = []

  const start = async (index: number): Promise<void> => {
    const port = ports[index]!
    const dir = join(root, String(port))
    mkdirSync(dir, { recursive: true })
    const child = spawn(
      serverBinary,
      [
        '--port', String(port), '--cluster-port', String(busPorts[index]!), '--bind', '127.0.0.1', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000',
        '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
      ],
      { stdio: 'ignore' },
    )
    children[index] = child
    await waitFor(async () => {
      // A node that could not bind its ports exits at once: say so rather than wait for it.
      if (child.exitCode !== null || child.signalCode !== null) throw new NodeExited(port)
      return (await run(cliBinary, ['-p', String(port), 'ping'])).stdout.trim() === 'PONG'
    }, `node ${port}`)
  }

  /** Starts node `index` on free ports, choosing new ones when another process took them first. */
  const startFresh = async (index: number): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const taken = new Set([...ports, ...busPorts])
      do ports[index] = await freePort()
      while (taken.has(ports[index]!))
      do busPorts[index] = await freePort()
      while (taken.has(busPorts[index]!) || busPorts[index] === ports[index])
      try {
        await start(index)
        return
      } catch (error) {
        if (!(error instanceof NodeExited) || attempt === 5) throw error
      }
    }
  }

  const kill = async (index: number): Promise<void> => {
    const child = children[index]
    children[index] = undefined
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  const healthy = async (): Promise<boolean> => {
    for (const port of ports) {
      const { stdout } = await run(cliBinary, ['-p', String(port), 'cluster', 'info'])
      if (!stdout.includes('cluster_state:ok')) return false
    }
    return true
  }

  try {
    for (let index = 0; index < 3; index++) await startFresh(index)
    await run(cliBinary, ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'])
    await waitFor(healthy, 'the cluster to be ready')
  } catch (error) {
    await Promise.all(children.map((_, index) => kill(index)))
    rmSync(root, { recursive: true, force: true })
    throw error
  }

  return {
    urls: ports.map((port) => `redis://127.0.0.1:${port}`),
    ports,
    kill,
    async restart(index) {
      await start(index)
      await waitFor(healthy, 'the cluster to be ready again')
    },
    async stop() {
      await Promise.all(ports.map((_, index) => kill(index)))
      rmSync(root, { recursive: true, force: true })
    },
  }
}
