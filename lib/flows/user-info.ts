import type { CognitoClient } from '../cognito/client.js'
import { CognitoIdpBadResponseError } from '../errors.js'
import type { CognitoSessionData } from '../session/model.js'

/**
 * The session with the user's attributes from /oauth2/userInfo (option `userInfo`): fetched at sign-in and again
 * at every refresh, so that an attribute an admin changed or removed does not outlive the tokens it came with.
 * A 401 there (token revoked, signed out everywhere) ends the session (CognitoSessionExpiredError).
 */
export async function withUserInfo (client: CognitoClient, session: CognitoSessionData): Promise<CognitoSessionData> {
  const info = await client.fetchUserInfo(session.accessToken)
  if (info.sub !== session.sub) throw new CognitoIdpBadResponseError('Cognito userInfo endpoint answered for another user')
  return { ...session, userInfo: info }
}
