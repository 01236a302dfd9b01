/**
 * The benchmark server: `node --import tsx bench/server.ts` with the scenarios' ServerConfigs as JSON in
 * BENCH_SERVER. One process serves every scenario, each on its own route (`/<id>`) in its own encapsulated
 * context, so that plugins and hooks of one scenario never run on another's route; the unguarded route sits at the
 * root with nothing at all. One process for all also means the same JIT and the same memory for every scenario.
 * It listens on loopback, tells the parent its port over IPC, and answers `{ type: 'cpu' }` messages with its CPU
 * time so that the parent can compute CPU per request. Every route serves the same small JSON.
 */
import { createPublicKey } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type preHandlerAsyncHookHandler } from 'fastify'
import fastifyCognito, { type CognitoSessionStore } from '../lib/index.js'
import { CLIENT_ID, REDIRECT_URI, SESSION_SECRET, USER_POOL_ID, type ServerConfig } from './common.js'

class Unauthorized extends Error {
  readonly statusCode = 401
}

function bearer (request: FastifyRequest): string {
  const header = request.headers.authorization
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) throw new Unauthorized('no bearer token')
  return header.slice(7)
}

/** The Cognito checks a peer library does not do by itself for access tokens. */
function checkAccessClaims (payload: Record<string, unknown>): Record<string, unknown> {
  if (payload.token_use !== 'access' || payload.client_id !== CLIENT_ID) throw new Unauthorized('not an access token of this client')
  return payload
}

/** The pool's access-token signing key, as PEM for the peers that take one key. */
function accessKeyPem (config: ServerConfig): string {
  const jwk = config.jwks.keys.find((key) => key.kid === config.accessKid)
  if (jwk === undefined) throw new Error(`no key ${config.accessKid}`)
  return createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
}

/**
 * The Redis store of one scenario, on a connection of its own as each instance of a fleet has (the store opens a
 * second one for its subscription), closed with the app.
 */
async function redisSessionStore (scope: FastifyInstance, url: string): Promise<CognitoSessionStore> {
  const [{ createClient }, { redisStore }] = await Promise.all([import('redis'), import('../lib/redis/index.js')])
  const client = createClient({ url })
  // An app's own listener, as every app has: without one an error event would end the process.
  client.on('error', (error: unknown) => { console.error('bench server: redis client error', error) })
  await client.connect()
  scope.addHook('onClose', async () => { await client.close() })
  return redisStore({ client })
}

const claimsUser = (request: FastifyRequest): unknown => (request.benchClaims as { username?: string } | null)?.username ?? null

/** Registers the scenario's plugins in `scope` and returns its guard and how its handler names the user. */
async function setUp (scope: FastifyInstance, id: string, config: ServerConfig): Promise<{ preHandler?: preHandlerAsyncHookHandler, user: (request: FastifyRequest) => unknown }> {
  switch (config.kind) {
    case 'unguarded':
      return { user: () => null }
    case 'plugin': {
      const plugin = config.plugin
      if (plugin === undefined) throw new Error('plugin options missing')
      // A bearer-only registration (an API) has no sign-in: no domain, callback or session secret.
      const signIn = plugin.bearerOnly === true ? {} : { domain: plugin.domain, redirectUri: REDIRECT_URI, sessionSecret: SESSION_SECRET }
      const sessionStore = plugin.redisUrl === undefined ? {} : { sessionStore: await redisSessionStore(scope, plugin.redisUrl) }
      await scope.register(fastifyCognito, {
        userPoolId: USER_POOL_ID,
        clientId: CLIENT_ID,
        issuer: plugin.issuer,
        jwksUri: plugin.jwksUri,
        ...signIn,
        ...sessionStore,
        // Several instances live in this one server: each mounts its login/logout routes apart.
        prefix: `/cognito-${id}`,
        ...(plugin.tokenCacheSize === undefined ? {} : { tokenCacheSize: plugin.tokenCacheSize })
      })
      const user = (request: FastifyRequest): unknown => request.user?.username ?? request.user?.clientId
      // guard: false registers the plugin but leaves the route open: what the plugin's app-wide hooks cost alone.
      if (plugin.guard === false) return { user }
      return { preHandler: scope.cognito.requireAuth(plugin.scopes === undefined ? {} : { scopes: plugin.scopes }), user }
    }
    case 'secure-session': {
      const { default: fastifySecureSession } = await import('@fastify/secure-session')
      await scope.register(fastifySecureSession, { key: Buffer.from(config.secureSessionKey ?? '', 'hex'), cookieName: 'session', cookie: { path: '/' } })
      // Reading the session is all it does: no token check at all.
      return { user: (request) => (request.session.get('data') as { sub?: string } | undefined)?.sub ?? null }
    }
    case 'jose': {
      const { createLocalJWKSet, jwtVerify } = await import('jose')
      const keySet = createLocalJWKSet(config.jwks as never)
      return {
        preHandler: async (request) => {
          const { payload } = await jwtVerify(bearer(request), keySet, { issuer: config.issuer, algorithms: ['RS256'] })
          request.benchClaims = checkAccessClaims(payload as Record<string, unknown>)
        },
        user: claimsUser
      }
    }
    case 'aws-jwt-verify': {
      const { CognitoJwtVerifier } = await import('aws-jwt-verify')
      const verifier = CognitoJwtVerifier.create({ userPoolId: USER_POOL_ID, tokenUse: 'access', clientId: CLIENT_ID })
      verifier.cacheJwks(config.jwks as never)
      return {
        preHandler: async (request) => { request.benchClaims = await verifier.verify(bearer(request)) as unknown as Record<string, unknown> },
        user: claimsUser
      }
    }
    case 'fastify-jwt': {
      const { default: fastifyJwt } = await import('@fastify/jwt')
      await scope.register(fastifyJwt, {
        secret: { public: accessKeyPem(config) },
        decoratorName: 'jwtClaims',
        verify: { algorithms: ['RS256'], allowedIss: config.issuer }
      })
      return {
        preHandler: async (request) => { request.benchClaims = checkAccessClaims(await request.jwtVerify<Record<string, unknown>>()) },
        user: claimsUser
      }
    }
    case 'fast-jwt': {
      const { createVerifier } = await import('fast-jwt')
      const verify = createVerifier({ key: accessKeyPem(config), algorithms: ['RS256'], allowedIss: config.issuer, cache: true })
      return {
        preHandler: async (request) => { request.benchClaims = checkAccessClaims(verify(bearer(request)) as Record<string, unknown>) },
        user: claimsUser
      }
    }
    default:
      throw new Error(`unknown server kind ${String(config.kind)}`)
  }
}

function route (scope: FastifyInstance, path: string, preHandler: preHandlerAsyncHookHandler | undefined, user: (request: FastifyRequest) => unknown): void {
  async function handler (request: FastifyRequest, _reply: FastifyReply): Promise<unknown> {
    return { ok: true, user: user(request) ?? null }
  }
  if (preHandler === undefined) scope.get(path, handler)
  else scope.get(path, { preHandler }, handler)
}

// The parent gone (even while this server is still starting, e.g. waiting for a Redis that went with it): end too.
process.on('disconnect', () => { process.exit(0) })

const scenarios = JSON.parse(process.env.BENCH_SERVER ?? '[]') as Array<{ id: string, server: ServerConfig }>
const app = Fastify({ logger: false })
app.decorateRequest('benchClaims', null)
for (const { id, server } of scenarios) {
  if (server.kind === 'unguarded') {
    route(app, `/${id}`, undefined, () => null)
  } else {
    await app.register(async function scenario (scope) {
      const { preHandler, user } = await setUp(scope, id, server)
      route(scope, `/${id}`, preHandler, user)
    })
  }
}

await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('no address')

process.on('message', (message: { type: string, id?: number }) => {
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage()
    if (process.connected) process.send?.({ type: 'cpu', id: message.id, cpu: user + system, rss: process.memoryUsage().rss })
  } else if (message.type === 'close') {
    app.close().then(() => process.exit(0), () => process.exit(1))
  }
})
process.send?.({ type: 'ready', port: address.port })

declare module 'fastify' {
  interface FastifyRequest {
    benchClaims: unknown
  }
}
