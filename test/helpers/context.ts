import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { CognitoClient } from '../../lib/cognito/client.js'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import type { CognitoContext } from '../../lib/context.js'
import { resolveOptions } from '../../lib/options.js'
import { registerCodec } from '../../lib/session/codec.js'
import { CookieSessionStore } from '../../lib/session/cookie-store.js'
import { LOGIN_TRANSACTION_MAX_AGE, LoginTransactions } from '../../lib/session/login-transactions.js'
import { SessionRefresher } from '../../lib/session/refresh.js'
import { JwksKeyStore } from '../../lib/tokens/jwks.js'
import { CognitoTokenVerifier } from '../../lib/tokens/verifier.js'
import type { FastifyCognitoOptions } from '../../lib/types.js'
import { sessionUser } from '../../lib/user.js'
import { createClock } from '../../lib/util/clock.js'

/**
 * The context of one registration built from the real services, the way lib/plugin.ts builds it, for unit tests of
 * the parts that take a context (flows, authenticate, request helpers) on routes the test declares itself. Call it
 * before `app.ready()` (the codec registers @fastify/secure-session in a scope of its own). The HTTP client is
 * closed with the app.
 */
export async function buildContext (t: Pick<TestContext, 'after'>, app: FastifyInstance, rawOptions: FastifyCognitoOptions): Promise<CognitoContext> {
  const options = resolveOptions(rawOptions)
  const clock = createClock(options.now)
  const http = new CognitoHttpClient(options.httpTimeout)
  t.after(async () => { await http.close() })
  const keys = new JwksKeyStore(http, options.jwksUri, options.jwksCooldown, clock.millis, options.jwks)
  const verifier = new CognitoTokenVerifier(keys, { ...options, now: clock.seconds })
  const client = new CognitoClient(http, options)
  const codec = await registerCodec(app, options.sessionKeys, { session: options.maxSessionAge, login: LOGIN_TRANSACTION_MAX_AGE })
  const cookieBase = options.secureCookies ? `__Host-${options.cookieName}` : options.cookieName
  const store = new CookieSessionStore(app, codec, {
    cookieName: `${cookieBase}_session`,
    secureCookies: options.secureCookies,
    sessionMaxAge: options.maxSessionAge,
    sessionCacheSize: options.sessionCacheSize,
    now: clock.seconds
  })
  const loginTransactions = new LoginTransactions(codec, `${cookieBase}_login`, options.secureCookies)
  const requireIdToken = options.scopes.includes('openid')
  const onRefresh = options.onRefresh
  const refresher = new SessionRefresher({
    client,
    verifier,
    store,
    requireIdToken,
    maxSessionAge: options.maxSessionAge,
    clock,
    onRefreshed: onRefresh === undefined ? undefined : async (request, { session }) => { await onRefresh(request, sessionUser(session)) }
  })
  const prefix = options.prefix
  return Object.freeze({
    options,
    clock,
    http,
    keys,
    verifier,
    client,
    store,
    loginTransactions,
    refresher,
    autoRefresher: options.autoRefresh ? refresher : undefined,
    paths: Object.freeze({ login: `${prefix}/login`, callback: `${prefix}/login/redirect`, refresh: `${prefix}/refresh`, logout: `${prefix}/logout` }),
    appOrigin: new URL(options.redirectUri).origin,
    requireIdToken
  })
}
