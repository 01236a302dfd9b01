import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CognitoClient } from './cognito/client.js'
import { CognitoHttpClient } from './cognito/http.js'
import type { CognitoContext } from './context.js'
import { CognitoError } from './errors.js'
import { createRequireAuth } from './guards.js'
import { resolveOptions, type ResolvedCognitoOptions } from './options.js'
import { requestHelpersFor } from './request-helpers.js'
import { registerCallbackRoute } from './routes/callback.js'
import { registerLoginRoute } from './routes/login.js'
import { registerLogoutRoute } from './routes/logout.js'
import { registerRefreshRoute } from './routes/refresh.js'
import { registerJsonCookieCodec } from './session/codec.js'
import { CookieSessionStore } from './session/cookie-store.js'
import { deriveCookieKeys } from './session/keys.js'
import { LOGIN_TRANSACTION_MAX_AGE, LoginTransactions } from './session/login-transactions.js'
import { SessionRefresher } from './session/refresh.js'
import { JwksKeyStore } from './tokens/jwks.js'
import { CognitoTokenVerifier } from './tokens/verifier.js'
import type { CognitoDecorator, FastifyCognitoOptions } from './types.js'
import { verifiedUser } from './user.js'
import { withUserInfo } from './flows/user-info.js'
import { createClock } from './util/clock.js'

/** The one context of a registration: every service, derived value and the clock, built once. */
async function buildContext (fastify: FastifyInstance, options: ResolvedCognitoOptions): Promise<CognitoContext> {
  const clock = createClock(options.now)
  const http = new CognitoHttpClient(options.httpTimeout)
  const keys = new JwksKeyStore(http, options.jwksUri, options.jwksCooldown, clock.millis, options.jwks)
  const verifier = new CognitoTokenVerifier(keys, { ...options, now: clock.seconds })
  const client = new CognitoClient(http, options)
  // __Host- makes the browser refuse the cookie unless it is Secure, for this host only, on Path=/.
  const cookieBase = options.secureCookies ? `__Host-${options.cookieName}` : options.cookieName
  const sessionCookie = `${cookieBase}_session`
  const loginCookie = `${cookieBase}_login`
  const store = new CookieSessionStore(fastify, {
    cookieName: sessionCookie,
    keys: deriveCookieKeys(options.sessionKeys, 'session', options.clientId, sessionCookie),
    cookieBudget: options.maxSessionCookieBytes,
    secureCookies: options.secureCookies,
    sessionMaxAge: options.maxSessionAge,
    sessionCacheSize: options.sessionCacheSize,
    now: clock.seconds
  })
  const loginCodec = await registerJsonCookieCodec(fastify, deriveCookieKeys(options.sessionKeys, 'login', options.clientId, loginCookie), LOGIN_TRANSACTION_MAX_AGE)
  const loginTransactions = new LoginTransactions(loginCodec, loginCookie, options.secureCookies, clock.seconds)
  const requireIdToken = options.scopes.includes('openid')
  const { onRefresh, userInfo } = options
  const refresher = new SessionRefresher({
    client,
    verifier,
    store,
    requireIdToken,
    maxSessionAge: options.maxSessionAge,
    refreshSkew: options.refreshSkew,
    clock,
    onRefreshed: !userInfo && onRefresh === undefined
      ? undefined
      : async (request, outcome) => {
        const session = userInfo ? await withUserInfo(client, outcome.session) : outcome.session
        if (onRefresh !== undefined) await onRefresh(request, verifiedUser(outcome.verified, session.userInfo))
        return { ...outcome, session }
      }
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
    callbackHostname: new URL(options.redirectUri).hostname,
    requireIdToken
  })
}

function decorate (fastify: FastifyInstance, context: CognitoContext): void {
  const { verifier, paths } = context
  const decorator: CognitoDecorator = {
    requireAuth: createRequireAuth(context),
    verifyAccessToken: async (token) => await verifier.verifyAccessToken(token),
    verifyIdToken: async (token, expected) => await verifier.verifyIdToken(token, { nonce: expected?.nonce }),
    loginPath: paths.login,
    logoutPath: paths.logout,
    refreshPath: paths.refresh
  }
  fastify.decorate('cognito', decorator)
  fastify.decorateRequest('user', null)
  fastify.decorateRequest('tokenPayload', null)
  fastify.decorateRequest('cognito', {
    getter (this: FastifyRequest) {
      return requestHelpersFor(this, context)
    }
  })
}

const plugin: FastifyPluginAsync<FastifyCognitoOptions> = async function fastifyCognito (fastify: FastifyInstance, rawOptions) {
  const options = resolveOptions(rawOptions)
  // No @fastify/cookie: the session store reads and writes only the plugin's own cookies, and only on requests that
  // use a session (session/cookies.ts); @fastify/cookie would add its hooks to every route of the app.
  const context = await buildContext(fastify, options)
  decorate(fastify, context)

  await fastify.register(async function cognitoRoutes (routes) {
    // HTML forms (`<form method="post" action="/logout">`) post an empty application/x-www-form-urlencoded body,
    // which Fastify answers with 415 unless a parser exists. The plugin's routes read no body: accept and drop it,
    // in this encapsulated context only, without replacing a parser the app already has.
    if (!routes.hasContentTypeParser('application/x-www-form-urlencoded')) {
      routes.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, _body, done) => { done(null, undefined) })
    }
    registerLoginRoute(routes, context)
    registerCallbackRoute(routes, context)
    registerRefreshRoute(routes, context)
    registerLogoutRoute(routes, context)
  }, { prefix: options.prefix })

  if (options.prefetchJwks) {
    fastify.addHook('onReady', async function prefetchCognitoJwks () {
      try {
        await context.keys.refresh()
      } catch (error) {
        // Not fatal: the keys are fetched again on first use, and the app should start while Cognito is away.
        fastify.log.warn({ code: error instanceof CognitoError ? error.code : 'unknown' }, 'fastify-cognito: could not prefetch the JWKS')
      }
    })
  }
  fastify.addHook('onClose', async function closeCognitoClient () {
    await context.http.close()
  })
}

/** The Fastify plugin. Register it once per app client: `app.register(fastifyCognito, options)`. */
export const fastifyCognito = fp(plugin, { fastify: '5.x', name: 'fastify-cognito' })
