import type { CognitoTokenSet } from '../cognito/client.js'
import { CognitoIdpBadResponseError, CognitoInvalidTokenError } from '../errors.js'
import type { CognitoAccessTokenPayload, CognitoIdTokenPayload } from '../types.js'
import type { CognitoTokenVerifier } from './verifier.js'

export interface VerifiedTokenSet {
  access: CognitoAccessTokenPayload
  id: CognitoIdTokenPayload | undefined
}

/**
 * Verifies what the token endpoint returned before anything is stored: the access token, the ID token (nonce
 * on login, at_hash when present) and that both name the same user (and the session's user on refresh).
 */
export async function verifyTokenSet (
  verifier: CognitoTokenVerifier,
  tokens: CognitoTokenSet,
  expected: { requireIdToken: boolean, nonce?: string | undefined, sub?: string | undefined }
): Promise<VerifiedTokenSet> {
  const access = await verifier.verifyAccessToken(tokens.accessToken)
  if (expected.sub !== undefined && access.sub !== expected.sub) throw new CognitoInvalidTokenError('Refreshed tokens belong to another user')
  if (tokens.idToken === undefined) {
    if (expected.requireIdToken) throw new CognitoIdpBadResponseError('Cognito token endpoint answered without an id_token although "openid" was asked')
    return { access, id: undefined }
  }
  const id = await verifier.verifyIdToken(tokens.idToken, { nonce: expected.nonce, accessToken: tokens.accessToken, sub: access.sub })
  return { access, id }
}
