import type { Authentication, CredentialInput, SessionRecord, UserSession } from '@pikku/core'

/** What an upgrade found, handed by the channel runtime to `connected`. */
export interface ChannelSessionGrant {
  /** What the upgrade's credential came to: none, refused, a stored session or a transient one. */
  readonly authentication: Authentication<UserSession>
  /** The stored session the credential named; undefined for a transient or anonymous connection. */
  readonly record: SessionRecord<UserSession> | undefined
}

const NONE: Authentication<UserSession> = Object.freeze({ outcome: 'none' })

/**
 * An upgrade in progress. It collects the sessions deleted while it runs: the credential may have
 * been checked just before its session was revoked, and the connection must not adopt a session
 * that has already ended.
 */
export class UpgradeGrant implements ChannelSessionGrant {
  authentication: Authentication<UserSession> = NONE
  /** The credential, kept to verify a transient session again. */
  credential: CredentialInput | undefined = undefined
  deleted: Set<string> | undefined = undefined
  /** The store resynced while the upgrade ran: a deletion of its session may have been missed. */
  recheck = false

  get record(): SessionRecord<UserSession> | undefined {
    return this.authentication.outcome === 'stored' ? this.authentication.record : undefined
  }
}

/** The upgrades under way, told of what the store announces while they run. */
export class PendingUpgrades {
  readonly #grants = new Set<UpgradeGrant>()

  begin(): UpgradeGrant {
    const grant = new UpgradeGrant()
    this.#grants.add(grant)
    return grant
  }

  end(grant: UpgradeGrant): void {
    this.#grants.delete(grant)
  }

  sessionDeleted(id: string): void {
    for (const grant of this.#grants) (grant.deleted ??= new Set()).add(id)
  }

  resynced(): void {
    for (const grant of this.#grants) grant.recheck = true
  }
}
