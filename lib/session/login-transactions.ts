import type { FastifyReply, FastifyRequest } from 'fastify'
import { isPlainObject } from '../util/checks.js'
import type { JsonCookieCodec } from './codec.js'
import { readCookie, setCookie } from './cookies.js'

/** One login in progress, between GET /login and the callback. */
export interface LoginTransaction {
  state: string
  codeVerifier: string
  nonce?: string
  returnTo?: string
  /** Epoch seconds. */
  createdAt: number
}

/** Logins started in other tabs stay valid side by side, up to this many. */
const MAX_LOGIN_TRANSACTIONS = 3
/** Seconds a login may take, from GET /login to the callback. */
export const LOGIN_TRANSACTION_MAX_AGE = 600

function isLoginTransaction (value: unknown): value is LoginTransaction {
  if (!isPlainObject(value)) return false
  return typeof value.state === 'string' && typeof value.codeVerifier === 'string' && typeof value.createdAt === 'number' &&
    (value.nonce === undefined || typeof value.nonce === 'string') && (value.returnTo === undefined || typeof value.returnTo === 'string')
}

/**
 * The logins in progress of a browser, in one encrypted cookie (state, PKCE verifier, nonce, where to return).
 * Each login is valid for {@link LOGIN_TRANSACTION_MAX_AGE} seconds from its own start: the cookie is written anew
 * whenever a login is added or spent, so its own expiry says nothing about the age of the logins inside.
 */
export class LoginTransactions {
  readonly #codec: JsonCookieCodec
  readonly #cookie: string
  readonly #lookup: string
  readonly #secure: boolean
  readonly #now: () => number

  /** `now` in epoch seconds. */
  constructor (codec: JsonCookieCodec, cookieName: string, secure: boolean, now: () => number) {
    this.#codec = codec
    this.#cookie = cookieName
    this.#lookup = `${cookieName}=`
    this.#secure = secure
    this.#now = now
  }

  get cookieName (): string {
    return this.#cookie
  }

  /** Whether the request carries the transaction cookie at all (decryptable or not). */
  hasCookie (request: FastifyRequest): boolean {
    const value = readCookie(request.headers.cookie, this.#lookup)
    return value !== undefined && value !== ''
  }

  /** The logins of this browser that are still valid (started less than the maximum age ago, not in the future). */
  read (request: FastifyRequest): LoginTransaction[] {
    const value = readCookie(request.headers.cookie, this.#lookup)
    if (value === undefined || value === '') return []
    const list = this.#codec.decode(value, request)?.transactions
    if (!Array.isArray(list)) return []
    const now = this.#now()
    return list.filter((tx): tx is LoginTransaction => isLoginTransaction(tx) && tx.createdAt <= now + 60 && now - tx.createdAt < LOGIN_TRANSACTION_MAX_AGE)
  }

  /** Adds a login, keeping the newest few so that logins started in several tabs all complete. */
  add (request: FastifyRequest, reply: FastifyReply, transaction: LoginTransaction): void {
    this.#write(reply, [...this.read(request), transaction].slice(-MAX_LOGIN_TRANSACTIONS))
  }

  /** Removes one login (it is single use), or the cookie when none is left. */
  remove (request: FastifyRequest, reply: FastifyReply, state: string): void {
    const rest = this.read(request).filter((tx) => tx.state !== state)
    if (rest.length === 0) this.clear(request, reply)
    else this.#write(reply, rest)
  }

  clear (request: FastifyRequest, reply: FastifyReply): void {
    if (readCookie(request.headers.cookie, this.#lookup) !== undefined) setCookie(reply, this.#cookie, '', { maxAge: 0, secure: this.#secure })
  }

  #write (reply: FastifyReply, transactions: LoginTransaction[]): void {
    setCookie(reply, this.#cookie, this.#codec.encode({ transactions }), { maxAge: LOGIN_TRANSACTION_MAX_AGE, secure: this.#secure })
  }
}
