/** What every process of the benchmark shares: names, settings, small statistics helpers. */

/** The app client the benchmark's tokens are issued to. */
export const CLIENT_ID = 'bench-client'
export const USER_POOL_ID = 'us-east-1_LOCALpool'
/** Bearer tokens carry a real Cognito issuer, as in production: that also gives the 1.1 KB token of the issue. */
export const COGNITO_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${USER_POOL_ID}`
export const SESSION_SECRET = 'bench-session-secret-bench-session-secret'
export const REDIRECT_URI = 'http://localhost:3000/login/redirect'

/** How a benchmark server is set up; passed to bench/server.ts as JSON in BENCH_SERVER. */
export interface ServerConfig {
  kind: 'unguarded' | 'plugin' | 'secure-session' | 'jose' | 'aws-jwt-verify' | 'fastify-jwt' | 'fast-jwt'
  /** The pool's JWKS, for the peers (they are given the keys, as with a hydrated cache). */
  jwks: { keys: Array<Record<string, unknown>> }
  issuer: string
  /** The kid of the access-token signing key (for the peers that take one PEM key). */
  accessKid: string
  /** fastify-cognito only. */
  plugin?: {
    domain: string
    issuer: string
    jwksUri: string
    tokenCacheSize?: number
    guard?: boolean
    bearerOnly?: boolean
    scopes?: string[]
    /** Sessions on this Redis (`sessionStore: redisStore({ client })`) instead of the cookie store. */
    redisUrl?: string
  }
  /** @fastify/secure-session only: the 32-byte key, hex. */
  secureSessionKey?: string
}

export interface Scenario {
  /** Short id used in the table. */
  id: string
  label: string
  server: ServerConfig
  /** Constant request headers. */
  headers?: Record<string, string>
  /** A pool of Bearer tokens sent in turn, one per request (the "always-new" scenario). */
  tokenPool?: string[]
  /** Baselines are measured for comparison only. */
  peer?: boolean
  /** The scenario of the same app and request with the route left open: the guard's own cost is the ratio to it. */
  openRoute?: string
  /** Count Redis's commands (INFO commandstats) around each measured run of this scenario. */
  redisCommands?: boolean
}

export function median (values: number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** The value at quantile `q` (0..1) of the first `count` entries of `values` (sorted in place). */
export function quantile (values: Float64Array, count: number, q: number): number {
  if (count === 0) return NaN
  const sorted = values.subarray(0, count).sort()
  return sorted[Math.min(count - 1, Math.floor(q * count))] as number
}

export function format (value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}
