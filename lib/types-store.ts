/**
 * The `sessionStore` option: where sessions live when they live on the server (Redis: `redisStore` from
 * `fastify-cognito/redis`). The plugin builds every key and value and encrypts every session before it reaches the
 * store; a store only keeps strings under keys, with expiry, and passes messages between the app's instances.
 *
 * Every method may reject: the plugin bounds each call with `sessionStoreTimeout` and answers a typed 503, never a
 * 500, never a sign-out. Values and members are base64url and `.`/`:` only; keys are the store's `keyPrefix` (or
 * `fastify-cognito:<clientId>:`) followed by a name whose `{…}` part is a Redis Cluster hash tag.
 */
export interface CognitoSessionStore {
  /** Prefix of every key and of the channel. Default `fastify-cognito:<clientId>:` (two apps on one Redis never collide). */
  readonly keyPrefix?: string | undefined

  /** The value at `key`, or null when there is none (never written, deleted or expired). */
  get: (key: string) => Promise<string | null>
  /** Writes `value` at `key`, expiring in `ttlSeconds` (Redis `SET key value EX ttl`). */
  create: (key: string, value: string, ttlSeconds: number) => Promise<void>
  /**
   * Replaces the value at `key` only if the key exists, keeping its expiry (Redis `SET key value XX KEEPTTL`).
   * Resolves to whether it existed: a refresh never brings back a session that was signed out.
   */
  replace: (key: string, value: string) => Promise<boolean>
  /** Deletes `key`; resolves to whether it existed. */
  delete: (key: string) => Promise<boolean>

  /**
   * Adds `member` to the set at `key` and makes the set live at least `ttlSeconds` from now (Redis `SADD`, then
   * `EXPIRE` when that extends it). One atomic operation on the set: never read, change and write back.
   */
  addToSet: (key: string, member: string, ttlSeconds: number) => Promise<void>
  /** Removes `member` from the set at `key` (Redis `SREM`). */
  removeFromSet: (key: string, member: string) => Promise<void>
  /** Every member of the set at `key` (Redis `SMEMBERS`); empty when there is none. */
  setMembers: (key: string) => Promise<string[]>

  /** Takes the lock `key` for `owner` unless someone holds it, for `ttlMs` (Redis `SET key owner NX PX ttl`). */
  acquireLock: (key: string, owner: string, ttlMs: number) => Promise<boolean>
  /** Releases the lock `key` only if `owner` still holds it (compare and delete in one step). */
  releaseLock: (key: string, owner: string) => Promise<void>

  /**
   * Adds `member` to the expiring list at `key` until `expiresAtMs` (epoch ms), drops members expired at `nowMs`, and
   * makes the list itself expire with its last member (Redis: a sorted set scored by expiry).
   */
  addExpiring: (key: string, member: string, expiresAtMs: number, nowMs: number) => Promise<void>
  /** The members of the expiring list at `key` still live at `nowMs`, each with its expiry (epoch ms). */
  liveMembers: (key: string, nowMs: number) => Promise<Array<[member: string, expiresAtMs: number]>>

  /** Sends `message` to every subscriber of `channel`, on every instance (Redis `PUBLISH`). */
  publish: (channel: string, message: string) => Promise<void>
  /**
   * Subscribes to `channel` on a connection of its own, and keeps the subscription across reconnections. Resolves
   * once subscribed. `subscriber.down()` is called when the connection is lost (messages may be missed from then
   * on) and `subscriber.up()` when it is subscribed again; see `subscriber.signal` for an app that closes first.
   */
  subscribe: (channel: string, subscriber: CognitoStoreSubscriber) => Promise<CognitoStoreSubscription>
}

/** What a store calls as its subscription's state changes and messages arrive. */
export interface CognitoStoreSubscriber {
  message: (message: string) => void
  /** The connection is lost: messages may be missed until `up`. */
  down: () => void
  /** Subscribed again after `down`. */
  up: () => void
  /**
   * Aborted when the app closes. A subscription still connecting then gives up, closes its connection and rejects:
   * a store that is down when the app starts would otherwise keep reconnecting, and keep the process alive, after
   * the app closed.
   */
  readonly signal?: AbortSignal | undefined
}

export interface CognitoStoreSubscription {
  /** Ends the subscription and closes its connection (the app's own client is left open). */
  close: () => Promise<void>
}
