import type { FastifyInstance } from 'fastify'
import {
  CognitoAuthorizationError,
  CognitoError,
  CognitoIdpResponseError,
  CognitoInvalidCallbackError,
  CognitoLoginRejectedError,
  CognitoLoginStateMissingError,
  CognitoStateMismatchError
} from '../errors.js'
import { sessionUser } from '../guards.js'
import type { CognitoSessionData } from '../session/store.js'
import type { FastifyCognitoSessionData } from '../types.js'
import { safeReturnTo } from '../return-to.js'
import { constantTimeEqual, randomToken } from '../tokens/random.js'
import { verifyTokenSet } from '../tokens/token-set.js'
import { pathOnly, revokeBestEffort, type RouteContext } from './context.js'

const OAUTH_ERROR = /^[a-z_]{1,64}$/

function singleValue (query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new CognitoInvalidCallbackError(`The callback parameter "${name}" must appear once`)
  return value
}

/**
 * GET /login/redirect: Cognito's redirect back. Checks state against the logins this browser started, exchanges
 * the code with the PKCE verifier, verifies both tokens and starts a new session.
 */
export function registerCallbackRoute (fastify: FastifyInstance, context: RouteContext): void {
  const { options, store, client, verifier } = context
  const requireIdToken = options.scopes.includes('openid')

  fastify.get('/login/redirect', {
    // The query carries the authorization code: keep it out of every log line of this route.
    logSerializers: {
      req: (request) => ({ method: request.method, url: pathOnly(request.url), host: request.host, remoteAddress: request.ip })
    }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const query = request.query as Record<string, unknown>
    const state = singleValue(query, 'state')
    const transactions = store.readLoginTransactions(request)
    const transaction = state === undefined ? undefined : transactions.find((tx) => constantTimeEqual(tx.state, state))
    // A state, once presented, is spent whatever happens next.
    if (transaction !== undefined) store.removeLoginTransaction(request, reply, transaction.state)

    const error = singleValue(query, 'error')
    if (error !== undefined) throw new CognitoAuthorizationError(OAUTH_ERROR.test(error) ? error : 'unknown')
    if (transactions.length === 0) throw new CognitoLoginStateMissingError()
    if (transaction === undefined) throw new CognitoStateMismatchError()
    const code = singleValue(query, 'code')
    if (code === undefined || code.length === 0 || code.length > 2048) throw new CognitoInvalidCallbackError('The callback has no valid authorization code')

    const tokens = await client.exchangeCode(code, transaction.codeVerifier)
    const { access } = await verifyTokenSet(verifier, tokens, { requireIdToken, nonce: transaction.nonce })
    const session: CognitoSessionData = {
      v: 1,
      sid: randomToken(),
      sub: access.sub,
      accessToken: tokens.accessToken,
      expiresAt: access.exp,
      createdAt: Math.floor(Date.now() / 1000)
    }
    if (tokens.idToken !== undefined) session.idToken = tokens.idToken
    if (tokens.refreshToken !== undefined) session.refreshToken = tokens.refreshToken
    if (options.userInfo) {
      const info = await client.fetchUserInfo(tokens.accessToken)
      if (info.sub !== access.sub) throw new CognitoIdpResponseError('Cognito userInfo endpoint answered for another user')
      session.userInfo = info
    }

    if (options.onLogin !== undefined) {
      const user = sessionUser(session)
      let data: FastifyCognitoSessionData | undefined | void
      try {
        data = await options.onLogin(request, {
          user,
          tokens: { accessToken: tokens.accessToken, idToken: tokens.idToken, refreshToken: tokens.refreshToken, expiresAt: access.exp }
        })
      } catch (error) {
        // A refused sign-in must not leave a live refresh token behind at Cognito.
        await revokeBestEffort(context, request, tokens.refreshToken)
        throw error instanceof CognitoError || typeof (error as { statusCode?: unknown } | null)?.statusCode === 'number'
          ? error
          : new CognitoLoginRejectedError(error instanceof Error ? error.message : undefined, { cause: error })
      }
      if (data !== undefined && data !== null) session.data = data
    }

    store.writeSession(request, reply, session)
    request.log.info({ sub: access.sub }, 'fastify-cognito: signed in')
    return reply.redirect(safeReturnTo(transaction.returnTo) ?? options.afterLoginRedirect, 302)
  })
}
