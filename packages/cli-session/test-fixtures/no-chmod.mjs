// Preloaded with `node --import` in the tests: any chmod makes the process fail loudly, which
// proves the credentials file and directory get their modes at creation, never afterwards.
import fs from 'node:fs'

const refuse = (name) =>
  function () {
    process.stderr.write(`chmod called: ${name}\n`)
    process.exit(99)
  }
for (const name of ['chmod', 'chmodSync', 'fchmod', 'fchmodSync', 'lchmod', 'lchmodSync']) {
  if (typeof fs[name] === 'function') fs[name] = refuse(name)
}
for (const name of ['chmod', 'lchmod']) {
  if (typeof fs.promises[name] === 'function') fs.promises[name] = refuse(`promises.${name}`)
}
const handle = await fs.promises.open(process.execPath, 'r')
Object.getPrototypeOf(handle).chmod = refuse('FileHandle.chmod')
await handle.close()
