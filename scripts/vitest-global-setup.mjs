// Every package's vitest runs this once around its whole run (globalSetup). Tests and the
// processes they spawn get a temporary directory and an XDG config directory of this run's own
// (TMPDIR and XDG_CONFIG_HOME are inherited by the test workers, which start after this), so
// nothing lands in the user's ~/.config; and the run fails, naming them, when tests left pikku-*
// entries in that temporary directory or created a pikku entry in the real ~/.config.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'

const pikkuEntries = (dir) => (existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith('pikku')) : [])

export default function setup() {
  const root = mkdtempSync(join(tmpdir(), 'pikku-test-run-'))
  const tmp = join(root, 'tmp')
  const config = join(root, 'config')
  mkdirSync(tmp)
  mkdirSync(config)
  const saved = { TMPDIR: process.env.TMPDIR, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME }
  process.env.TMPDIR = tmp
  process.env.XDG_CONFIG_HOME = config
  const userConfig = join(homedir(), '.config')
  const before = new Set(pikkuEntries(userConfig))

  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    // The repository's tests name their temporary directories pikku-*; whatever other tools
    // (browsers, bundlers) leave behind is removed with the run's directory without complaint.
    const leaked = pikkuEntries(tmp)
    const inHome = pikkuEntries(userConfig).filter((name) => !before.has(name))
    rmSync(root, { recursive: true, force: true })
    const problems = []
    if (leaked.length > 0) problems.push(`tests left ${leaked.length} entries in the temporary directory (remove what you create): ${leaked.join(', ')}`)
    if (inHome.length > 0) problems.push(`tests wrote under the user's home directory: ${inHome.map((name) => join(userConfig, name)).join(', ')} (give spawned CLIs a temporary HOME / XDG_CONFIG_HOME)`)
    if (problems.length > 0) {
      // vitest only logs an error thrown here and still exits 0: set the exit code as well.
      console.error(`\nTest hygiene: ${problems.join('\n')}`)
      process.exitCode = 1
    }
  }
}
