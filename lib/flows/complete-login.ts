import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CognitoTokenSet } from '../cognito/client.js'
import type { SignInContext } from '../context.js'
import {
  CognitoAuthorizationError,
  CognitoError,
  CognitoInvalidCallbackError,
  CognitoLoginRejectedError,
  CognitoLoginStateMissingError,
  CognitoStateMismatchError
} from '../errors.js'
import type { LoginTransaction } from '../session/login-transactions.js'
import { createSession, type CognitoSessionData } from '../session/model.js'
import { verifyTokenSet } from '../tokens/token-set.js'
import type { FastifyCognitoSessionData } from '../types.js'
import type { VerifiedTokenSet } from '../tokens/token-set.js'
import { verifiedUser } from '../user.js'
import { isOAuthErrorCode } from '../util/checks.js'
import { constantTimeEqual } from '../util/random.js'
import { safeReturnTo } from '../util/return-to.js'
import { revokeBestEffort } from './revoke.js'
import { withUserInfo } from './user-info.js'

function singleValue (query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new CognitoInvalidCallbackError(`The callback parameter "${name}" must appear once`)
  return value
}

/** What the plugin can see of why a callback finds no login in progress, for the log (never a cookie's value). */
function missingLoginReason (context: SignInContext, request: FastifyRequest): string {
  const hostname = request.hostname.toLowerCase().slice(0, 253)
  const expected = context.signIn.callbackHostname
  if (hostname !== expected) {
    return `the callback arrived at host "${hostname}" while the redirect URI names "${expected}"`
  }
  if (!context.signIn.loginTransactions.hasCookie(request)) {
    return 'the request carries no login cookie: the sign-in started on another host name, in another browser, or cookies are blocked'
  }
  return 'the login cookie holds no valid login: it is older than 10 minutes, already used, or from another app or session secret'
}

/** The login this callback completes, spent on the way (a state, once presented, is spent whatever happens next). */
function takeTransaction (context: SignInContext, request: FastifyRequest, reply: FastifyReply, query: Record<string, unknown>): LoginTransaction {
  const state = singleValue(query, 'state')
  const transactions = context.signIn.loginTransactions.read(request)
  const transaction = state === undefined ? undefined : transactions.find((tx) => constantTimeEqual(tx.state, state))
  if (transaction !== undefined) context.signIn.loginTransactions.remove(request, reply, transaction.state)
  const error = singleValue(query, 'error')
  if (error !== undefined) throw new CognitoAuthorizationError(isOAuthErrorCode(error) ? error : 'unknown')
  if (transactions.length === 0) {
    request.log.warn({ reason: missingLoginReason(context, request) }, 'fastify-cognito: sign-in callback without a login in progress')
    throw new CognitoLoginStateMissingError()
  }
  if (transaction === undefined) throw new CognitoStateMismatchError()
  return transaction
}

/** The app's `onLogin`: what it returns is kept in the session; a throw refuses the sign-in and revokes the tokens. */
async function runOnLogin (context: SignInContext, request: FastifyRequest, session: CognitoSessionData, tokens: CognitoTokenSet, verified: VerifiedTokenSet): Promise<void> {
  const onLogin = context.signIn.options.onLogin
  if (onLogin === undefined) return
  let data: FastifyCognitoSessionData | undefined | void
  try {
    data = await onLogin(request, {
      user: verifiedUser(verified, session.userInfo, context.options.userPoolId),
      tokens: { accessToken: tokens.accessToken, idToken: tokens.idToken, refreshToken: tokens.refreshToken, expiresAt: session.expiresAt }
    })
  } catch (error) {
    // A refused sign-in must not leave a live refresh token behind at Cognito (the caller revokes it).
    throw error instanceof CognitoError || typeof (error as { statusCode?: unknown } | null)?.statusCode === 'number'
      ? error
      : new CognitoLoginRejectedError(error instanceof Error ? error.message : undefined, { cause: error })
  }
  if (data !== undefined && data !== null) session.data = data
}

/**
 * GET /login/redirect: Cognito's redirect back. Checks state against the logins this browser started, exchanges
 * the code with the PKCE verifier, verifies both tokens and starts a new session.
 */
export async function completeLogin (context: SignInContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { options, client, requireIdToken, store } = context.signIn
  const { verifier } = context
  reply.header('cache-control', 'no-store')
  const query = request.query as Record<string, unknown>
  const transaction = takeTransaction(context, request, reply, query)
  const code = singleValue(query, 'code')
  if (code === undefined || code.length === 0 || code.length > 2048) throw new CognitoInvalidCallbackError('The callback has no valid authorization code')

  const tokens = await client.exchangeCode(code, transaction.codeVerifier)
  const verified = await verifyTokenSet(verifier, tokens, { requireIdToken, nonce: transaction.nonce })
  const { access } = verified
  let session = createSession(verified, tokens, context.clock.seconds())
  try {
    if (options.userInfo) session = await withUserInfo(client, session)
    await runOnLogin(context, request, session, tokens, verified)
    await store.writeSession(request, reply, session)
  } catch (error) {
    // No session, so no live refresh token left behind at Cognito either.
    await revokeBestEffort(context, request.log, tokens.refreshToken)
    throw error
  }
  request.log.info({ sub: access.sub }, 'fastify-cognito: signed in')
  return reply.redirect(safeReturnTo(transaction.returnTo) ?? options.afterLoginRedirect, 302)
}
