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

async function waitFor(check: () => Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function startTestCluster(): Promise<TestCluster> {
  const root = mkdtempSync(join(tmpdir(), 'pikku-redis-cluster-'))
  const ports = [await freePort(), await freePort(), await freePort()]
  const children: (ChildProcess | undefined)[] = []

  const start = async (index: number): Promise<void> => {
    const port = ports[index]!
    const dir = join(root, String(port))
    mkdirSync(dir, { recursive: true })
    children[index] = spawn(
      serverBinary,
      [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000',
        '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
      ],
      { stdio: 'ignore' },
    )
    await waitFor(async () => (await run(cliBinary, ['-p', String(port), 'ping'])).stdout.trim() === 'PONG', `node ${port}`)
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
    for (let index = 0; index < ports.length; index++) await start(index)
    await run(cliBinary, ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'])
    await waitFor(healthy, 'the cluster to be ready')
  } catch (error) {
    await Promise.all(ports.map((_, index) => kill(index)))
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
