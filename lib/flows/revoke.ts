import type { FastifyBaseLogger } from 'fastify'
import type { SignInContext } from '../context.js'
import { CognitoError } from '../errors.js'

/**
 * Revokes a refresh token at Cognito without letting a failure stop the caller (logout, a refused sign-in): the
 * failure is logged by its code only, and the refresh token then simply expires.
 */
export async function revokeBestEffort (context: SignInContext, log: FastifyBaseLogger, refreshToken: string | undefined): Promise<void> {
  if (refreshToken === undefined) return
  try {
    await context.signIn.client.revoke(refreshToken)
  } catch (error) {
    const code = error instanceof CognitoError ? error.code : 'unknown'
    log.warn({ code }, 'fastify-cognito: revoking the refresh token failed')
  }
}
