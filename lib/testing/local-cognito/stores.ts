import { randomBytes, randomUUID } from 'node:crypto'
import { base64url } from './jwt.js'

export const CODE_LIFETIME_MS = 5 * 60 * 1000
export const BROWSER_SESSION_SECONDS = 60 * 60

export interface AuthorizationCode {
  clientId: string
  redirectUri: string
  scopes: string[]
  username: string
  authTime: number
  nonce?: string
  codeChallenge?: string
  expiresAt: number
}

/** One sign-in of one user at one client: what a refresh token chain and its tokens hang off. */
export interface TokenSession {
  originJti: string
  username: string
  clientId: string
  scopes: string[]
  authTime: number
  revoked: boolean
}

export interface RefreshTokenRecord {
  session: TokenSession
  expiresAt: number
  /** Set once rotation replaced this token; it keeps working until then. */
  retiresAt?: number
}

export interface BrowserSession {
  username: string
  authTime: number
  expiresAt: number
}

interface IssuedAccessToken {
  session?: TokenSession
  generation: number
}

// The JOSE header real Cognito refresh tokens carry; clients treat the token as opaque.
const REFRESH_TOKEN_HEADER = base64url(JSON.stringify({ cty: 'JWT', enc: 'A256GCM', alg: 'RSA-OAEP' }))

/**
 * Shaped like Cognito's JWE: an RSA-2048 encrypted key, a 96-bit IV, a ~1 KB ciphertext and a GCM tag, which
 * lands at about 1.8 KB like the real thing (cookie-size tests depend on it).
 */
function newRefreshToken (): string {
  const part = (bytes: number): string => base64url(randomBytes(bytes))
  return [REFRESH_TOKEN_HEADER, part(256), part(12), part(1000), part(16)].join('.')
}

export class Stores {
  readonly #codes = new Map<string, AuthorizationCode>()
  readonly #refreshTokens = new Map<string, RefreshTokenRecord>()
  readonly #browserSessions = new Map<string, BrowserSession>()
  readonly #sessions = new Map<string, TokenSession>()
  // Keyed by event_id, which every access token carries even when revocation (jti/origin_jti) is disabled.
  readonly #accessTokens = new Map<string, IssuedAccessToken>()
  #generation = 0
  readonly #now: () => number

  constructor (now: () => number) {
    this.#now = now
  }

  putCode (code: Omit<AuthorizationCode, 'expiresAt'>): string {
    const now = this.#now()
    for (const [value, stored] of this.#codes) {
      if (stored.expiresAt <= now) this.#codes.delete(value)
    }
    const value = randomUUID()
    this.#codes.set(value, { ...code, expiresAt: now + CODE_LIFETIME_MS })
    return value
  }

  /** Single use: the code is gone whatever the caller concludes about it afterwards. */
  takeCode (value: string): AuthorizationCode | undefined {
    const code = this.#codes.get(value)
    this.#codes.delete(value)
    return code
  }

  createSession (session: Omit<TokenSession, 'originJti' | 'revoked'>): TokenSession {
    const created: TokenSession = { ...session, originJti: randomUUID(), revoked: false }
    this.#sessions.set(created.originJti, created)
    return created
  }

  sessionByOriginJti (originJti: unknown): TokenSession | undefined {
    return typeof originJti === 'string' ? this.#sessions.get(originJti) : undefined
  }

  /** `expiresAt` in ms: rotation passes the replaced token's expiry on, so the chain never outlives the sign-in. */
  putRefreshToken (session: TokenSession, expiresAt: number): string {
    const value = newRefreshToken()
    this.#refreshTokens.set(value, { session, expiresAt })
    return value
  }

  refreshToken (value: string): RefreshTokenRecord | undefined {
    return this.#refreshTokens.get(value)
  }

  /** Usable means: known, session not revoked, not expired and, if rotated away, still in its grace period. */
  usableRefreshToken (value: string): RefreshTokenRecord | undefined {
    const record = this.#refreshTokens.get(value)
    const now = this.#now()
    if (record === undefined || record.session.revoked || record.expiresAt <= now) return undefined
    if (record.retiresAt !== undefined && record.retiresAt <= now) return undefined
    return record
  }

  registerAccessToken (eventId: unknown, session?: TokenSession): void {
    if (typeof eventId !== 'string') return
    this.#accessTokens.set(eventId, session === undefined ? { generation: this.#generation } : { session, generation: this.#generation })
  }

  /** Whether userInfo must refuse an access token that still verifies: its session was revoked or signed out. */
  isAccessTokenRevoked (claims: Record<string, unknown>): boolean {
    const issued = typeof claims.event_id === 'string' ? this.#accessTokens.get(claims.event_id) : undefined
    if (issued !== undefined) {
      if (issued.generation < this.#generation || issued.session?.revoked === true) return true
    }
    return this.sessionByOriginJti(claims.origin_jti)?.revoked === true
  }

  /** GlobalSignOut for every user: all sessions die and every access token issued so far is refused. */
  revokeAll (): void {
    for (const session of this.#sessions.values()) session.revoked = true
    this.#generation++
  }

  createBrowserSession (username: string, authTime: number): string {
    const value = base64url(randomBytes(32))
    this.#browserSessions.set(value, { username, authTime, expiresAt: this.#now() + BROWSER_SESSION_SECONDS * 1000 })
    return value
  }

  browserSession (value: string | undefined): BrowserSession | undefined {
    if (value === undefined) return undefined
    const session = this.#browserSessions.get(value)
    if (session === undefined) return undefined
    if (session.expiresAt <= this.#now()) {
      this.#browserSessions.delete(value)
      return undefined
    }
    return session
  }

  deleteBrowserSession (value: string | undefined): void {
    if (value !== undefined) this.#browserSessions.delete(value)
  }
}
