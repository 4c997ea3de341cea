import { type Clock, type CoreUserSession, type SessionRecord, type SessionStore } from '@pikku/core'
import { hashSessionToken } from '@pikku/core/protocol'
import type { Adapter, AdapterPayload } from 'oidc-provider'
import { asProviderOutage } from './guarded-store.js'

/**
 * Models whose id is a bearer secret a client presents (a token, a code): stored under the hash of
 * the id and without the id in the payload, so a leaked store yields no usable credential
 * (decision 003). The provider finds them only by the id the client sends.
 */
const SECRET_ID_MODELS = new Set([
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'ClientCredentials',
  'RegistrationAccessToken',
  'InitialAccessToken',
  'PushedAuthorizationRequest',
])

/** What the adapter keeps in a store record's data. */
interface AdapterData extends CoreUserSession {
  readonly payload: AdapterPayload
}

const MAX_CONSUME_ATTEMPTS = 8

/** Called when the provider revokes a whole grant (code or refresh-token reuse, revocation). */
export type GrantRevokedListener = (grantId: string) => Promise<void>

/**
 * `oidc-provider`'s storage over a namespaced view of the app's session store, so OAuth state
 * (clients, codes, tokens, grants) lives wherever the app's sessions live (memory, SQLite, Redis,
 * PostgreSQL) and every server sharing the store shares it. Records of one grant share an owner key
 * (`grant:<grantId>`), so `revokeByGrantId` is one `deleteByUser`.
 */
export function createStoreAdapterFactory(
  store: SessionStore<AdapterData>,
  clock: Clock,
  onGrantRevoked: GrantRevokedListener,
  findClient: (id: string) => Promise<AdapterPayload | undefined>,
  unboundedLifetimeMs: number,
): (name: string) => Adapter {
  return (name: string): Adapter => new StoreAdapter(name, store, clock, onGrantRevoked, findClient, unboundedLifetimeMs)
}

class StoreAdapter implements Adapter {
  readonly #name: string
  readonly #store: SessionStore<AdapterData>
  readonly #clock: Clock
  readonly #onGrantRevoked: GrantRevokedListener
  readonly #findClient: (id: string) => Promise<AdapterPayload | undefined>
  readonly #secretIds: boolean
  readonly #unboundedLifetimeMs: number

  constructor(
    name: string,
    store: SessionStore<AdapterData>,
    clock: Clock,
    onGrantRevoked: GrantRevokedListener,
    findClient: (id: string) => Promise<AdapterPayload | undefined>,
    unboundedLifetimeMs: number,
  ) {
    // Records the provider keeps without an expiry (a registered client and its registration
    // token) get this one, so unauthenticated registrations cannot fill the store for good.
    this.#unboundedLifetimeMs = unboundedLifetimeMs
    this.#name = name
    this.#store = store
    this.#clock = clock
    this.#onGrantRevoked = onGrantRevoked
    this.#findClient = findClient
    this.#secretIds = SECRET_ID_MODELS.has(name)
  }

  // The provider's interface: each method shows a store outage as 503 temporarily_unavailable.
  upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    return asProviderOutage(() => this.#upsertNow(id, payload, expiresIn))
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return asProviderOutage(() => this.#findNow(id))
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return asProviderOutage(() => this.#findByUidNow(uid))
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return asProviderOutage(() => this.#findByUserCodeNow(userCode))
  }

  consume(id: string): Promise<void> {
    return asProviderOutage(() => this.#consumeNow(id))
  }

  destroy(id: string): Promise<void> {
    return asProviderOutage(() => this.#destroyNow(id))
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return asProviderOutage(() => this.#revokeByGrantIdNow(grantId))
  }

  #key(id: string): string {
    return `${this.#name}.${hashSessionToken(id)}`
  }

  async #upsertNow(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    const now = this.#clock()
    const key = this.#key(id)
    const grantId = payload.grantId
    // A grant is its own owner key, so revoking it deletes the grant with its tokens.
    const owner = this.#name === 'Grant' ? `grant:${id}` : typeof grantId === 'string' ? `grant:${grantId}` : key
    const stored: AdapterPayload = this.#secretIds ? withoutId(payload) : payload
    const record: SessionRecord<AdapterData> = {
      id: key,
      userId: owner,
      data: { userId: owner, payload: stored },
      version: 1,
      createdAt: now,
      lastActiveAt: now,
      expiresAt: expiresIn === undefined || !(expiresIn > 0) ? now + this.#unboundedLifetimeMs : now + expiresIn * 1000,
    }
    await this.#store.set(record)
    if (this.#name === 'Session' && typeof payload.uid === 'string') {
      await this.#setIndex(`uid.${hashSessionToken(payload.uid)}`, id, owner, record.expiresAt)
    }
    if (typeof payload.userCode === 'string') {
      await this.#setIndex(`userCode.${hashSessionToken(payload.userCode)}`, id, owner, record.expiresAt)
    }
  }

  async #findNow(id: string): Promise<AdapterPayload | undefined> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 2048) return undefined
    const record = await this.#store.get(this.#key(id))
    // A copy: the provider changes what it finds (a session's grants), and a store may hand out
    // frozen values (the memory store does).
    if (record !== undefined) return this.#secretIds ? { ...structuredClone(record.data.payload), jti: id } : structuredClone(record.data.payload)
    // A client the provider does not know: a client metadata document, when its id is one.
    if (this.#name === 'Client') return this.#findClient(id)
    return undefined
  }

  async #findByUidNow(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findByIndex(`uid.${hashSessionToken(uid)}`)
  }

  async #findByUserCodeNow(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findByIndex(`userCode.${hashSessionToken(userCode)}`)
  }

  async #consumeNow(id: string): Promise<void> {
    const key = this.#key(id)
    // Compare-and-set: of two redemptions of one code racing on two servers, one sees the other's mark.
    for (let attempt = 0; attempt < MAX_CONSUME_ATTEMPTS; attempt++) {
      const record = await this.#store.get(key)
      if (record === undefined) return
      const data: AdapterData = { userId: record.data.userId, payload: { ...record.data.payload, consumed: Math.floor(this.#clock() / 1000) } }
      const result = await this.#store.update(key, record.version, { data, lastActiveAt: this.#clock(), expiresAt: record.expiresAt })
      if (result !== 'conflict') return
    }
    throw new Error(`could not mark ${this.#name} consumed: it kept changing`)
  }

  async #destroyNow(id: string): Promise<void> {
    await this.#store.delete(this.#key(id), 'revoked')
  }

  async #revokeByGrantIdNow(grantId: string): Promise<void> {
    await this.#store.deleteByUser(`grant:${grantId}`)
    // The provider calls this once per token model of the grant; the access-token model is always
    // among them, so its call alone ends the grant's session.
    if (this.#name === 'AccessToken') await this.#onGrantRevoked(grantId)
  }

  async #setIndex(key: string, id: string, owner: string, expiresAt: number): Promise<void> {
    const now = this.#clock()
    await this.#store.set({
      id: key,
      userId: owner,
      data: { userId: owner, payload: { target: id } },
      version: 1,
      createdAt: now,
      lastActiveAt: now,
      expiresAt,
    })
  }

  async #findByIndex(key: string): Promise<AdapterPayload | undefined> {
    const index = await this.#store.get(key)
    const target = index?.data.payload.target
    return typeof target === 'string' ? this.#findNow(target) : undefined
  }
}

function withoutId(payload: AdapterPayload): AdapterPayload {
  const { jti: _jti, ...rest } = payload
  return rest
}
