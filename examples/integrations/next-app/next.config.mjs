import { fileURLToPath } from 'node:url'

// The monorepo's root, so that Next.js finds the workspace packages and the shared recipe module.
const root = fileURLToPath(new URL('../../..', import.meta.url))

/** @type {import('next').NextConfig} */
export default {
  turbopack: { root },
  outputFileTracingRoot: root,
}
