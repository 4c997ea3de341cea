const PROFILE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** Whether a profile name is usable (it becomes part of a file name). */
export function isProfileName(name: string): boolean {
  return PROFILE_PATTERN.test(name)
}

/** Profile names are letters, digits, '-' and '_', so they can never reach outside the directory. */
export function assertProfileName(name: string): void {
  if (!isProfileName(name)) {
    throw new TypeError(`profile names use letters, digits, '-' and '_' (at most 64, starting with a letter or digit); got ${JSON.stringify(name)}`)
  }
}
