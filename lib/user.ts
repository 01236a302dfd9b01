import type { CognitoSessionData } from './session/model.js'
import { unverifiedPayload } from './tokens/jws.js'
import type { CognitoAccessTokenPayload, CognitoIdTokenPayload, CognitoUser } from './types.js'
import { deepFreeze } from './util/freeze.js'

/** `request.user`, built from the claims of tokens: nothing else about a request decides who the user is. */

export function buildUser (access: CognitoAccessTokenPayload, id?: CognitoIdTokenPayload): CognitoUser {
  const user: CognitoUser = {
    sub: access.sub,
    username: access.username,
    groups: access['cognito:groups'] ?? id?.['cognito:groups'] ?? [],
    scopes: typeof access.scope === 'string' ? access.scope.split(' ').filter((scope) => scope !== '') : [],
    claims: id ?? access
  }
  if (typeof id?.email === 'string') user.email = id.email
  if (typeof id?.email_verified === 'boolean') user.emailVerified = id.email_verified
  return user
}

/** Scope lists are the same for many tokens: cached authentications share one frozen array per `scope` string. */
const scopeLists = new Map<string, string[]>()
const SCOPE_LISTS_MAX = 256

/** `buildUser`, deep-frozen, with a shared scope list: what the guards hand out and keep. */
export function frozenUser (access: CognitoAccessTokenPayload, id?: CognitoIdTokenPayload): CognitoUser {
  const user = buildUser(access, id)
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

/**
 * The ID token in a session was verified (signature, issuer, audience, nonce) before the session was written,
 * and the session cookie is authenticated encryption: decoding its payload is enough here.
 */
export function idTokenClaims (session: CognitoSessionData): CognitoIdTokenPayload | undefined {
  if (session.idToken === undefined) return undefined
  const claims = unverifiedPayload(session.idToken) as CognitoIdTokenPayload | undefined
  if (claims === undefined) return undefined
  // userInfo (option `userInfo`) was fetched for the same user at sign-in; its attributes complete the claims.
  return deepFreeze(session.userInfo === undefined ? claims : { ...claims, ...session.userInfo })
}

/** The user of a session as a guard would build it, for hooks that run outside a guard (logout, refresh). */
export function sessionUser (session: CognitoSessionData): CognitoUser {
  // The session's access token was verified before the session was written, and the cookie is authenticated.
  const access = (unverifiedPayload(session.accessToken) ?? {}) as CognitoAccessTokenPayload
  return buildUser(access, idTokenClaims(session))
}
