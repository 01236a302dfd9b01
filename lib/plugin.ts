import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CognitoClient } from './cognito/client.js'
import { ClientCredentialsTokenSource, resolveClientCredentialsOptions, type CognitoClientCredentialsOptions } from './cognito/client-credentials.js'
import { CognitoHttpClient } from './cognito/http.js'
import type { CognitoContext, CognitoSignIn, SignInContext } from './context.js'
import { CognitoError, CognitoInvalidOptionError, CognitoSessionExpiredError } from './errors.js'
import { endUserSessions } from './flows/logout.js'
import { withUserInfo } from './flows/user-info.js'
import { guardContextFactory } from './guard-context.js'
import { createRequireAuth } from './guards.js'
import { registerOpenApi } from './openapi/register.js'
import { resolveOptions, type ResolvedCognitoOptions, type ResolvedSignInOptions } from './options.js'
import { requestHelpersFor } from './request-helpers.js'
import { registerCallbackRoute } from './routes/callback.js'
import { registerLoginRoute } from './routes/login.js'
import { registerLogoutRoute } from './routes/logout.js'
import { registerRefreshRoute } from './routes/refresh.js'
import { registerJsonCookieCodec } from './session/codec.js'
import { CookieSessionStore } from './session/cookie-store.js'
import { ServerSessionStore } from './session/server-store.js'
import { deriveCookieKeys } from './session/keys.js'
import { LOGIN_TRANSACTION_MAX_AGE, LoginTransactions } from './session/login-transactions.js'
import type { CognitoSessionData } from './session/model.js'
import { SessionRefresher } from './session/refresh.js'
import { JwksKeyStore } from './tokens/jwks.js'
import { CognitoTokenVerifier } from './tokens/verifier.js'
import type { CognitoDecorator } from './types.js'
import type { FastifyCognitoOptions } from './types-options.js'
import { verifiedUser } from './user.js'
import { createClock, type Clock } from './util/clock.js'

/**
 * userInfo again at a refresh. Cognito has already issued the new tokens (and, with rotation, retired the old
 * refresh token): a fault at userInfo must not throw them away and sign the user out. Only its 401 (the session
 * was ended at Cognito) ends the session; any other fault keeps the new tokens without userInfo, logged.
 */
async function refreshedUserInfo (client: CognitoClient, request: FastifyRequest, session: CognitoSessionData): Promise<CognitoSessionData> {
  try {
    return await withUserInfo(client, session)
  } catch (error) {
    if (error instanceof CognitoSessionExpiredError) throw error
    request.log.warn({ code: error instanceof CognitoError ? error.code : 'unknown' }, 'fastify-cognito: userInfo failed at a refresh; the new tokens are kept without it')
    const { userInfo: _stale, ...rest } = session
    return rest
  }
}

/** Browser sign-in's services: the session store, the login transactions, the refresher, the Cognito client. */
async function buildSignIn (fastify: FastifyInstance, options: ResolvedCognitoOptions, signIn: ResolvedSignInOptions, base: Omit<CognitoContext, 'signIn'>): Promise<CognitoSignIn> {
  const { clock, verifier } = base
  const client = new CognitoClient(base.http, signIn)
  // __Host- makes the browser refuse the cookie unless it is Secure, for this host only, on Path=/.
  const cookieBase = signIn.secureCookies ? `__Host-${signIn.cookieName}` : signIn.cookieName
  const sessionCookie = `${cookieBase}_session`
  const loginCookie = `${cookieBase}_login`
  const store = signIn.sessionStore === undefined
    ? new CookieSessionStore(fastify, {
      cookieName: sessionCookie,
      keys: deriveCookieKeys(signIn.sessionKeys, 'session', signIn.clientId, sessionCookie),
      cookieBudget: signIn.maxSessionCookieBytes,
      secureCookies: signIn.secureCookies,
      sessionMaxAge: signIn.maxSessionAge,
      sessionCacheSize: options.sessionCacheSize,
      now: clock.seconds
    })
    : new ServerSessionStore(fastify, {
      store: signIn.sessionStore,
      keyPrefix: signIn.sessionStore.keyPrefix ?? `fastify-cognito:${signIn.clientId}:`,
      cookieName: `${cookieBase}_sid`,
      legacyChunkPrefix: `${sessionCookie}.`,
      secretKeys: signIn.sessionKeys,
      clientId: signIn.clientId,
      secureCookies: signIn.secureCookies,
      sessionMaxAge: signIn.maxSessionAge,
      sessionCacheSize: options.sessionCacheSize,
      timeoutMs: signIn.sessionStoreTimeout,
      // A refresh may take two calls to Cognito (token, userInfo) and a few store calls: the lock outlives them.
      lockMs: 2 * options.httpTimeout + 4 * signIn.sessionStoreTimeout + 1000,
      revocationFailOpen: signIn.revocationFailOpen,
      clock,
      log: fastify.log,
      revokeLocally: (id, expiresAt) => { verifier.revokeTokenId(id, expiresAt) }
    })
  const loginCodec = await registerJsonCookieCodec(fastify, deriveCookieKeys(signIn.sessionKeys, 'login', signIn.clientId, loginCookie), LOGIN_TRANSACTION_MAX_AGE)
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
        const session = userInfo ? await refreshedUserInfo(client, request, outcome.session) : outcome.session
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

/** The one context of a registration: every service, derived value and the clock, built once. */
export async function buildContext (fastify: FastifyInstance, options: ResolvedCognitoOptions): Promise<CognitoContext> {
  const clock: Clock = createClock(options.now)
  const http = new CognitoHttpClient(options.httpTimeout)
  // One key store per pool: each has its own keys, fetches and cooldown.
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
    // Verified tokens always name a known pool: the fallback is never reached.
    poolIdOf: (issuer: string) => verifier.userPoolIdOf(issuer) ?? options.userPoolId,
    paths: Object.freeze({ login: `${prefix}/login`, callback: `${prefix}/login/redirect`, refresh: `${prefix}/refresh`, logout: `${prefix}/logout` })
  }
  const signIn = options.signIn === undefined ? undefined : await buildSignIn(fastify, options, options.signIn, base)
  return Object.freeze({ ...base, signIn })
}

/**
 * `app.cognito.clientCredentials(options)`: a cached, single-flight source of machine tokens for calling other
 * APIs. Sources are kept per client, scopes and domain, so that asking again (even per request) shares one cache:
 * Cognito bills every machine token request.
 */
function clientCredentialsFactory (context: CognitoContext): CognitoDecorator['clientCredentials'] {
  const sources = new Map<string, ClientCredentialsTokenSource>()
  return (raw) => {
    const given = (raw ?? {}) as Partial<CognitoClientCredentialsOptions>
    const options = resolveClientCredentialsOptions({ ...given, domain: given.domain ?? context.signIn?.options.domain })
    const key = JSON.stringify([options.clientId, options.clientSecret, options.domain, options.scopes, options.refreshSkew])
    let source = sources.get(key)
    if (source === undefined) {
      source = new ClientCredentialsTokenSource(context.http, options, context.clock.millis)
      sources.set(key, source)
    }
    return source
  }
}

/** `app.cognito.endSessions(sub)`: every session of a user, ended on every instance (a server-side store only). */
async function endSessionsOf (context: CognitoContext, sub: string, log: FastifyBaseLogger): Promise<number> {
  const store = context.signIn?.store
  if (!(store instanceof ServerSessionStore)) {
    throw new CognitoInvalidOptionError('fastify-cognito: endSessions() needs browser sign-in with a server-side session store (option "sessionStore")')
  }
  if (typeof sub !== 'string' || sub === '') throw new CognitoInvalidOptionError('fastify-cognito: endSessions(sub) needs the user\'s "sub"')
  return await endUserSessions(context as SignInContext, store, sub, log)
}

function decorate (fastify: FastifyInstance, context: CognitoContext): void {
  const { verifier, paths } = context
  const requireAuth = createRequireAuth(context)
  const decorator: CognitoDecorator = {
    requireAuth,
    guardContext: guardContextFactory(context, requireAuth),
    clientCredentials: clientCredentialsFactory(context),
    endSessions: async (sub) => await endSessionsOf(context, sub, fastify.log),
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

/** The plugin's routes, in an encapsulated context under `prefix`: only with browser sign-in. */
async function registerRoutes (fastify: FastifyInstance, context: SignInContext): Promise<void> {
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
  }, { prefix: context.options.prefix })
}

const plugin: FastifyPluginAsync<FastifyCognitoOptions> = async function fastifyCognito (fastify: FastifyInstance, rawOptions) {
  const options = resolveOptions(rawOptions)
  // No @fastify/cookie: the session store reads and writes only the plugin's own cookies, and only on requests that
  // use a session (session/cookies.ts); @fastify/cookie would add its hooks to every route of the app.
  const context = await buildContext(fastify, options)
  decorate(fastify, context)
  // Before the routes, so that the OpenAPI documentation sees the plugin's routes too.
  registerOpenApi(fastify, context)
  if (context.signIn !== undefined) await registerRoutes(fastify, context as SignInContext)

  if (options.prefetchJwks) {
    fastify.addHook('onReady', async function prefetchCognitoJwks () {
      await Promise.all(context.keys.map(async (keys) => {
        try {
          await keys.refresh()
        } catch (error) {
          // Not fatal: the keys are fetched again on first use, and the app should start while Cognito is away.
          fastify.log.warn({ code: error instanceof CognitoError ? error.code : 'unknown' }, 'fastify-cognito: could not prefetch the JWKS')
        }
      }))
    })
  }
  const serverStore = context.signIn?.store
  if (serverStore instanceof ServerSessionStore) {
    // Subscribe to the fleet's events and load its signed-out tokens before the first request (bounded: a store
    // that is down must not keep the app from starting).
    fastify.addHook('onReady', async function startCognitoSessionStore () {
      await serverStore.start()
    })
  }
  fastify.addHook('onClose', async function closeCognitoClient () {
    if (serverStore instanceof ServerSessionStore) await serverStore.close()
    await context.http.close()
  })
}

/** The Fastify plugin. Register it once per app client: `app.register(fastifyCognito, options)`. */
export const fastifyCognito = fp(plugin, { fastify: '5.x', name: 'fastify-cognito' })
