import type { ResolvedConfig } from './config.js'
import type { KeyRing } from './keys.js'
import type { Stores } from './stores.js'
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

export function nowSeconds (ctx: Context): number {
  return Math.floor(ctx.config.now() / 1000)
}

export function findClient (ctx: Context, clientId: string | undefined): ResolvedClient | undefined {
  return clientId === undefined ? undefined : ctx.config.clients.find(client => client.clientId === clientId)
}

/** Case-insensitive, as in user pools created with Cognito's default settings. */
export function findUser (ctx: Context, username: string | undefined): ResolvedUser | undefined {
  if (username === undefined) return undefined
  const wanted = username.toLowerCase()
  return ctx.config.users.find(user => user.username.toLowerCase() === wanted)
}
