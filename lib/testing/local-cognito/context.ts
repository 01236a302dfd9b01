import type { ResolvedConfig } from './config.js'
import type { KeyRing } from './keys.js'
import { Stores } from './stores.js'
import type { LocalCognitoRequestCounters, ResolvedClient, ResolvedUser } from './types.js'

/** Everything the route handlers share; `urls` is filled in once the server listens. */
export interface Context {
  readonly config: ResolvedConfig
  readonly keys: KeyRing
  readonly stores: Stores
  readonly requests: LocalCognitoRequestCounters
  urls: { domain: string, issuer: string }
  jwksAvailable: boolean
  lastAuthorizeQuery: Record<string, string> | undefined
}

export function createContext (config: ResolvedConfig, keys: KeyRing, urls: Context['urls']): Context {
  return {
    config,
    keys,
    stores: new Stores(config.now),
    requests: {
      authorize: 0,
      login: 0,
      federatedLogin: 0,
      token: 0,
      tokenAuthorizationCode: 0,
      tokenRefresh: 0,
      tokenClientCredentials: 0,
      userInfo: 0,
      revoke: 0,
      logout: 0,
      jwks: 0,
      discovery: 0
    },
    urls,
    jwksAvailable: true,
    lastAuthorizeQuery: undefined
  }
}

/**
 * Pools listening in this process, by domain: `loginAs()` finds a user's password through the pool the app's
 * login redirect points at.
 */
const runningPools = new Map<string, Context>()

export function trackRunningPool (ctx: Context): () => void {
  runningPools.set(ctx.urls.domain, ctx)
  return () => {
    if (runningPools.get(ctx.urls.domain) === ctx) runningPools.delete(ctx.urls.domain)
  }
}

export function runningPool (domain: string): Context | undefined {
  return runningPools.get(domain)
}

export function nowSeconds (ctx: Context): number {
  return Math.floor(ctx.config.now() / 1000)
}

export function findClient (ctx: Context, clientId: string | undefined): ResolvedClient | undefined {
  return clientId === undefined ? undefined : ctx.config.clients.find(client => client.clientId === clientId)
}

/**
 * Case-insensitive, as in user pools created with Cognito's default settings. Federated users (`Google_123…`) are
 * found too, because their tokens, refreshes and userInfo work like anyone's; only the sign-in form refuses them.
 */
export function findUser (ctx: Context, username: string | undefined): ResolvedUser | undefined {
  if (username === undefined) return undefined
  const wanted = username.toLowerCase()
  const matches = (user: ResolvedUser): boolean => user.username.toLowerCase() === wanted
  return ctx.config.users.find(matches) ?? [...ctx.config.federatedUsers.values()].find(matches)
}
