import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SignInContext } from '../context.js'
import { CognitoUnauthenticatedError } from '../errors.js'

/**
 * Refreshes the session's tokens now (POST /refresh, `request.cognito.refresh()`), single flight. Keeps the old
 * refresh token when Cognito returns none (rotation off). `invalid_grant` ends the session; a network fault does
 * not (the user may retry). Resolves to the new access token's expiry, epoch seconds.
 */
export async function refreshNow (context: SignInContext, request: FastifyRequest, reply: FastifyReply): Promise<{ expiresAt: number }> {
  await context.signIn.store.loadSession(request)
  const session = context.signIn.store.readSession(request)
  if (session === null) throw new CognitoUnauthenticatedError()
  const { verified } = await context.signIn.refresher.refresh(request, reply, session)
  return { expiresAt: verified.access.exp }
}
