import type { VerifiedTokenSet } from '../tokens/token-set.js'
import type { FastifyCognitoSessionData } from '../types.js'
import { isPlainObject } from '../util/checks.js'
import { deepFreeze } from '../util/freeze.js'
import { randomToken } from '../util/random.js'

/**
 * The session: what a sign-in leaves behind, whichever store keeps it. The one place that lists its fields:
 * created at sign-in, changed by a refresh, parsed back from whatever a store decoded.
 */
export interface CognitoSessionData {
  v: 1
  /** Random per login: a new sign-in never continues an old session (no fixation). */
  sid: string
  /** The user's `sub`; refreshed tokens must name the same user. */
  sub: string
  accessToken: string
  idToken?: string
  refreshToken?: string
  /** When the session's tokens stop being valid: the access token's `exp` (or the ID token's, if earlier), epoch seconds. */
  expiresAt: number
  /** The access token's `iat`, epoch seconds: with `expiresAt`, the tokens' lifetime (refresh timing). */
  issuedAt: number
  /** When the user signed in, epoch seconds. */
  createdAt: number
  /** /oauth2/userInfo at sign-in (option `userInfo`), booleans normalised. */
  userInfo?: Record<string, unknown>
  /** What the app's `onLogin` hook returned. */
  data?: FastifyCognitoSessionData
}

/** A refresh's result: the new session and the claims of its freshly verified tokens. */
export interface RefreshOutcome {
  session: CognitoSessionData
  verified: VerifiedTokenSet
}

/** The fields that hold tokens (what session/pack.ts stores in binary form). */
export const SESSION_TOKEN_FIELDS = ['accessToken', 'idToken', 'refreshToken'] as const

export interface SessionTokens {
  accessToken: string
  idToken?: string | undefined
  refreshToken?: string | undefined
}

/** When tokens just verified stop being valid together: the earlier `exp` of the access and the ID token. */
function expiryOf (verified: VerifiedTokenSet): number {
  return verified.id === undefined ? verified.access.exp : Math.min(verified.access.exp, verified.id.exp)
}

/** A new session for a verified sign-in. */
export function createSession (verified: VerifiedTokenSet, tokens: SessionTokens, now: number): CognitoSessionData {
  const session: CognitoSessionData = {
    v: 1,
    sid: randomToken(),
    sub: verified.access.sub,
    accessToken: tokens.accessToken,
    expiresAt: expiryOf(verified),
    issuedAt: verified.access.iat,
    createdAt: Math.floor(now)
  }
  if (tokens.idToken !== undefined) session.idToken = tokens.idToken
  if (tokens.refreshToken !== undefined) session.refreshToken = tokens.refreshToken
  return session
}

/** The session after a verified refresh: the old refresh token stays when Cognito sent none (rotation off). */
export function refreshedSession (session: CognitoSessionData, tokens: SessionTokens, verified: VerifiedTokenSet): CognitoSessionData {
  const next: CognitoSessionData = { ...session, accessToken: tokens.accessToken, expiresAt: expiryOf(verified), issuedAt: verified.access.iat }
  const refreshToken = tokens.refreshToken ?? session.refreshToken
  if (refreshToken !== undefined) next.refreshToken = refreshToken
  if (tokens.idToken !== undefined) next.idToken = tokens.idToken
  return next
}

function isSessionShape (value: Record<string, unknown>): boolean {
  return value.v === 1 && typeof value.sid === 'string' && typeof value.sub === 'string' && typeof value.accessToken === 'string' &&
    typeof value.expiresAt === 'number' && typeof value.issuedAt === 'number' && typeof value.createdAt === 'number' &&
    (value.idToken === undefined || typeof value.idToken === 'string') &&
    (value.refreshToken === undefined || typeof value.refreshToken === 'string') &&
    (value.userInfo === undefined || isPlainObject(value.userInfo)) &&
    (value.data === undefined || isPlainObject(value.data))
}

/**
 * The session in `value` (a store's decoded plaintext), copied field by field and deep-frozen, or undefined when
 * it is not one: an unknown field never rides along.
 */
export function parseSession (value: unknown): CognitoSessionData | undefined {
  if (!isPlainObject(value) || !isSessionShape(value)) return undefined
  const data = value as unknown as CognitoSessionData
  const session: CognitoSessionData = {
    v: 1,
    sid: data.sid,
    sub: data.sub,
    accessToken: data.accessToken,
    expiresAt: data.expiresAt,
    issuedAt: data.issuedAt,
    createdAt: data.createdAt
  }
  if (data.idToken !== undefined) session.idToken = data.idToken
  if (data.refreshToken !== undefined) session.refreshToken = data.refreshToken
  if (data.userInfo !== undefined) session.userInfo = data.userInfo
  if (data.data !== undefined) session.data = data.data
  return deepFreeze(session)
}

/**
 * Whether the sign-in behind `session` is `maxSessionAge` seconds old or older at `now` (epoch seconds). A sign-in
 * time in the future (more than a minute: clocks of several instances disagree a little) is no valid sign-in time:
 * such a session counts as outlived, so that it cannot escape the limit.
 */
export function hasOutlivedMaxAge (session: CognitoSessionData, maxSessionAge: number, now: number): boolean {
  return now >= session.createdAt + maxSessionAge || session.createdAt > now + 60
}
