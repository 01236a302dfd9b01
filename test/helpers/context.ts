import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { CognitoClient } from '../../lib/cognito/client.js'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import { hasSignIn, type CognitoContext, type CognitoSignIn, type SignInContext } from '../../lib/context.js'
import { withUserInfo } from '../../lib/flows/user-info.js'
import { resolveOptions, type ResolvedCognitoOptions, type ResolvedSignInOptions } from '../../lib/options.js'
import { registerJsonCookieCodec } from '../../lib/session/codec.js'
import { CookieSessionStore } from '../../lib/session/cookie-store.js'
import { deriveCookieKeys } from '../../lib/session/keys.js'
import { LOGIN_TRANSACTION_MAX_AGE, LoginTransactions } from '../../lib/session/login-transactions.js'
import { SessionRefresher } from '../../lib/session/refresh.js'
import { JwksKeyStore } from '../../lib/tokens/jwks.js'
import { CognitoTokenVerifier } from '../../lib/tokens/verifier.js'
import type { FastifyCognitoOptions } from '../../lib/types.js'
import { verifiedUser } from '../../lib/user.js'
import { createClock } from '../../lib/util/clock.js'

/** Browser sign-in's services, as lib/plugin.ts `buildSignIn` builds them. */
async function buildSignIn (app: FastifyInstance, options: ResolvedCognitoOptions, signIn: ResolvedSignInOptions, base: Omit<CognitoContext, 'signIn'>): Promise<CognitoSignIn> {
  const { clock, verifier } = base
  const client = new CognitoClient(base.http, signIn)
  const cookieBase = signIn.secureCookies ? `__Host-${signIn.cookieName}` : signIn.cookieName
  const sessionCookie = `${cookieBase}_session`
  const loginCookie = `${cookieBase}_login`
  const store = new CookieSessionStore(app, {
    cookieName: sessionCookie,
    keys: deriveCookieKeys(signIn.sessionKeys, 'session', signIn.clientId, sessionCookie),
    cookieBudget: signIn.maxSessionCookieBytes,
    secureCookies: signIn.secureCookies,
    sessionMaxAge: signIn.maxSessionAge,
    sessionCacheSize: options.sessionCacheSize,
    now: clock.seconds
  })
  const loginCodec = await registerJsonCookieCodec(app, deriveCookieKeys(signIn.sessionKeys, 'login', signIn.clientId, loginCookie), LOGIN_TRANSACTION_MAX_AGE)
  const requireIdToken = signIn.scopes.includes('openid')
  const { onRefresh, userInfo } = signIn
  const refresher = new SessionRefresher({
    client,
    verifier,
    store,
    requireIdToken,
    maxSessionAge: signIn.maxSessionAge,
    refreshSkew: signIn.refreshSkew,
    clock,
    onRefreshed: !userInfo && onRefresh === undefined
      ? undefined
      : async (request, outcome) => {
        const session = userInfo ? await withUserInfo(client, outcome.session) : outcome.session
        if (onRefresh !== undefined) await onRefresh(request, verifiedUser(outcome.verified, session.userInfo, options.userPoolId))
        return { ...outcome, session }
      }
  })
  const redirect = new URL(signIn.redirectUri)
  return Object.freeze({
    options: signIn,
    client,
    store,
    loginTransactions: new LoginTransactions(loginCodec, loginCookie, signIn.secureCookies, clock.seconds),
    refresher,
    autoRefresher: signIn.autoRefresh ? refresher : undefined,
    appOrigin: redirect.origin,
    callbackHostname: redirect.hostname,
    requireIdToken
  })
}

/**
 * The context of one registration built from the real services, the way lib/plugin.ts `buildContext` builds it,
 * for unit tests of the parts that take a context (flows, authenticate, request helpers) on routes the test
 * declares itself. Call it before `app.ready()` (the login codec registers @fastify/secure-session in a scope of
 * its own). The HTTP client is closed after the test.
 */
export async function buildContext (t: Pick<TestContext, 'after'>, app: FastifyInstance, rawOptions: FastifyCognitoOptions): Promise<CognitoContext> {
  const options = resolveOptions(rawOptions)
  const clock = createClock(options.now)
  const http = new CognitoHttpClient(options.httpTimeout)
  t.after(async () => { await http.close() })
  const keys = options.pools.map((pool) => new JwksKeyStore(http, pool.jwksUri, options.jwksCooldown, clock.millis, pool.jwks))
  const verifier = new CognitoTokenVerifier(
    options.pools.map((pool, index) => ({ issuer: pool.issuer, userPoolId: pool.userPoolId, clientIds: pool.clientIds, keys: keys[index] as JwksKeyStore })),
    { clientId: options.clientId, clockTolerance: options.clockTolerance, tokenCacheSize: options.tokenCacheSize, now: clock.seconds }
  )
  const prefix = options.prefix
  const base = {
    options,
    clock,
    http,
    keys,
    verifier,
    poolIdOf: (issuer: string) => verifier.userPoolIdOf(issuer) ?? options.userPoolId,
    paths: Object.freeze({ login: `${prefix}/login`, callback: `${prefix}/login/redirect`, refresh: `${prefix}/refresh`, logout: `${prefix}/logout` })
  }
  const signIn = options.signIn === undefined ? undefined : await buildSignIn(app, options, options.signIn, base)
  return Object.freeze({ ...base, signIn })
}

/** {@link buildContext} for options with browser sign-in: what the flows take. */
export async function buildSignInContext (t: Pick<TestContext, 'after'>, app: FastifyInstance, rawOptions: FastifyCognitoOptions): Promise<SignInContext> {
  const context = await buildContext(t, app, rawOptions)
  if (!hasSignIn(context)) throw new Error('buildSignInContext: the options do not turn browser sign-in on')
  return context
}
