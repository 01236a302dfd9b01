import type { VerifiedTokenSet } from './tokens/token-set.js'
import type { CognitoAccessTokenPayload, CognitoIdTokenPayload, CognitoUser } from './types.js'
import { isPlainObject } from './util/checks.js'
import { deepFreeze } from './util/freeze.js'

/**
 * `request.user`, built from the claims of verified tokens only. Authorization data (groups, scopes) comes from the
 * access token, the token every request is checked with; the ID token (verified too) adds the profile claims.
 */

export function buildUser (access: CognitoAccessTokenPayload, id: CognitoIdTokenPayload | undefined, userPoolId: string): CognitoUser {
  const base = {
    sub: access.sub,
    groups: access['cognito:groups'] ?? [],
    scopes: typeof access.scope === 'string' ? access.scope.split(' ').filter((scope) => scope !== '') : [],
    clientId: access.client_id,
    userPoolId,
    claims: id ?? access
  }
  // The verifier lets a token without username through only as a machine token (its client as subject).
  const user: CognitoUser = typeof access.username === 'string'
    ? { ...base, isMachine: false, username: access.username }
    : { ...base, isMachine: true }
  if (typeof id?.email === 'string') user.email = id.email
  if (typeof id?.email_verified === 'boolean') user.emailVerified = id.email_verified
  const provider = identityProviderOf(id?.identities)
  if (provider !== undefined) user.identityProvider = provider
  return user
}

/** The provider of the primary identity (Cognito marks it `primary: "true"`), else of the first one. */
function identityProviderOf (identities: unknown): string | undefined {
  if (!Array.isArray(identities)) return undefined
  const named = identities.filter((identity): identity is { providerName: string, primary?: unknown } =>
    isPlainObject(identity) && typeof identity.providerName === 'string' && identity.providerName !== '')
  return (named.find((identity) => identity.primary === 'true' || identity.primary === true) ?? named[0])?.providerName
}

/**
 * The ID-token claims completed by /oauth2/userInfo (option `userInfo`), frozen. The verified ID token wins where
 * both have a claim: it is at least as fresh, and it is signed.
 */
export function profileClaims (id: CognitoIdTokenPayload | undefined, userInfo: Record<string, unknown> | undefined): CognitoIdTokenPayload | undefined {
  if (id === undefined || userInfo === undefined) return id
  return deepFreeze({ ...userInfo, ...id })
}

/** The user of tokens just verified (sign-in, refresh), for the hooks that run then. */
export function verifiedUser (verified: VerifiedTokenSet, userInfo: Record<string, unknown> | undefined, userPoolId: string): CognitoUser {
  return buildUser(verified.access, profileClaims(verified.id, userInfo), userPoolId)
}

/** Scope lists are the same for many tokens: cached authentications share one frozen array per `scope` string. */
const scopeLists = new Map<string, string[]>()
const SCOPE_LISTS_MAX = 256

/** `buildUser`, deep-frozen, with a shared scope list: what the guards hand out and keep. */
export function frozenUser (access: CognitoAccessTokenPayload, id: CognitoIdTokenPayload | undefined, userPoolId: string): CognitoUser {
  const user = buildUser(access, id, userPoolId)
  if (typeof access.scope === 'string') {
    const known = scopeLists.get(access.scope)
    if (known === undefined) {
      if (scopeLists.size >= SCOPE_LISTS_MAX) scopeLists.clear()
      scopeLists.set(access.scope, Object.freeze(user.scopes) as string[])
    } else {
      user.scopes = known
    }
  }
  return deepFreeze(user)
}
