import type { Services } from './register.js'
import type { SessionlessWire } from './wire.js'

/** A guard: true allows the call. It may read the session through `wire.session`. */
export type PikkuPermission<In = unknown> = (services: Services, data: In, wire: SessionlessWire) => boolean | Promise<boolean>

/**
 * Permissions attached to a function (or to the runner, globally):
 *
 * - a single guard must pass;
 * - an array of guards passes only if **all** pass;
 * - a record of named entries passes if **any** entry passes (an entry may itself be an array,
 *   meaning all of those).
 *
 * Global and per-function permissions must both pass.
 */
export type PermissionSpec<In = unknown> =
  | PikkuPermission<In>
  | readonly PikkuPermission<In>[]
  | Readonly<Record<string, PikkuPermission<In> | readonly PikkuPermission<In>[]>>

/** Declares a permission guard with the app's types; returns it unchanged. */
export function pikkuPermission<In = unknown>(permission: PikkuPermission<In>): PikkuPermission<In> {
  if (typeof permission !== 'function') {
    throw new TypeError('pikkuPermission takes a function (services, data, wire) => boolean | Promise<boolean>')
  }
  return permission
}

async function allPass<In>(
  guards: readonly PikkuPermission<In>[],
  services: Services,
  data: In,
  wire: SessionlessWire,
): Promise<boolean> {
  for (const guard of guards) {
    if ((await guard(services, data, wire)) !== true) return false
  }
  return true
}

/** Evaluates a permission spec with the semantics documented on `PermissionSpec`. */
export async function checkPermissions<In>(
  spec: PermissionSpec<In>,
  services: Services,
  data: In,
  wire: SessionlessWire,
): Promise<boolean> {
  if (typeof spec === 'function') return (await spec(services, data, wire)) === true
  if (Array.isArray(spec)) return allPass(spec as readonly PikkuPermission<In>[], services, data, wire)
  const entries = Object.values(spec as Record<string, PikkuPermission<In> | readonly PikkuPermission<In>[]>)
  // An empty record allows nothing rather than everything: an empty allow-list is a mistake.
  for (const entry of entries) {
    const passed = typeof entry === 'function' ? (await entry(services, data, wire)) === true : await allPass(entry, services, data, wire)
    if (passed) return true
  }
  return false
}
