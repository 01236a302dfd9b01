// The demo: `npm run example`. Without settings it starts the bundled local Cognito-compatible IdP and signs in
// against it; with COGNITO_USER_POOL_ID and friends (see .env.example) the same app uses a real user pool.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyCognitoOptions } from 'fastify-cognito'
import type { RedisClientType } from 'redis'
import { startLocalCognito, type LocalCognito } from 'fastify-cognito/testing'
import { buildDemoApp } from './app.js'
import { appUrls, readConfig, type AppUrls, type DemoConfig } from './config.js'
import type { DemoUser } from './pages.js'

const envFile = fileURLToPath(new URL('../../.env', import.meta.url))
// Variables already set in the environment win over the file.
if (existsSync(envFile)) process.loadEnvFile(envFile)

const DEMO_USERS = [
  { username: 'alice', password: 'alice-password-1', email: 'alice@example.com', name: 'Alice Admin', groups: ['admin'] },
  { username: 'bob', password: 'bob-password-1', email: 'bob@example.com', name: 'Bob User' }
]
const LOCAL_CLIENT_ID = 'demo-app-client'

interface Setup {
  urls: AppUrls
  cognito: FastifyCognitoOptions
  idpLabel: string
  users: DemoUser[]
  idp: LocalCognito | undefined
  /** Where sessions live when REDIS_URL is set. */
  redisLabel?: string
}

async function setUp (config: DemoConfig): Promise<Setup> {
  const urls = appUrls(config.baseUrl)
  const uris = { redirectUri: urls.redirectUri, logoutUri: urls.logoutUri }
  if (config.cognito !== undefined) {
    const { userPoolId, clientId, clientSecret, domain, issuer } = config.cognito
    return {
      urls,
      cognito: {
        userPoolId,
        clientId,
        domain,
        ...uris,
        sessionSecret: config.sessionSecret,
        ...(clientSecret !== undefined ? { clientSecret } : {}),
        ...(issuer !== undefined ? { issuer } : {})
      },
      idpLabel: `the Cognito user pool ${userPoolId}`,
      users: [],
      idp: undefined
    }
  }
  const idp = await startLocalCognito({
    host: '127.0.0.1',
    port: config.localCognitoPort,
    users: DEMO_USERS,
    // A public client: PKCE and no secret, so Swagger UI (/docs) can sign in with it from the browser too.
    // Short-lived access tokens make the Refresh button worth pressing.
    clients: [{ clientId: LOCAL_CLIENT_ID, callbackUrls: [uris.redirectUri, urls.docsRedirectUri], logoutUrls: [uris.logoutUri], accessTokenValiditySeconds: 900 }]
  })
  return {
    urls,
    cognito: { userPoolId: idp.userPoolId, clientId: LOCAL_CLIENT_ID, domain: idp.domain, issuer: idp.issuer, ...uris, sessionSecret: config.sessionSecret },
    idpLabel: 'the local Cognito-compatible identity provider',
    users: idp.users.map(user => ({ username: user.username, password: user.password, groups: user.groups ?? [] })),
    idp
  }
}

/** The one address to open, and the two URLs a real app client must allow (the local IdP allows them already). */
function banner (setup: Setup): string {
  const { urls } = setup
  const lines = ['', 'fastify-cognito demo', '', `  App:            ${urls.home}`, `  API docs:       ${urls.docs} (Authorize, then Try it out)`]
  if (setup.idp === undefined) {
    lines.push(`  Cognito:        ${setup.cognito.domain} (user pool ${setup.cognito.userPoolId}, app client ${setup.cognito.clientId})`)
    lines.push(`  Callback URL:   ${urls.redirectUri}`, `  Sign-out URL:   ${urls.logoutUri}`)
    lines.push(`  Docs callback:  ${urls.docsRedirectUri} (for Swagger UI's Authorize; a public client only)`)
  } else {
    lines.push(`  Local Cognito:  ${setup.idp.domain} (user pool ${setup.idp.userPoolId}, app client ${LOCAL_CLIENT_ID})`, '  Demo users:')
    for (const user of setup.users) {
      const groups = user.groups.length === 0 ? 'no group' : `group ${user.groups.join(', ')}`
      lines.push(`    ${user.username.padEnd(6)} / ${user.password.padEnd(17)} (${groups})`)
    }
  }
  lines.push(`  Sessions:       ${setup.redisLabel ?? 'in encrypted cookies (set REDIS_URL to keep them on Redis)'}`)
  lines.push('', `  Open ${urls.home} and click Sign in.`, '', 'Press Ctrl-C to stop.', '')
  return lines.join('\n')
}

/** With REDIS_URL, sessions live on that Redis (see the README's "Running several instances"). */
async function connectRedis (config: DemoConfig, setup: Setup): Promise<RedisClientType | undefined> {
  if (config.redisUrl === undefined) return undefined
  // Loaded only when asked for: without REDIS_URL the demo, like any app without a store, loads nothing of Redis.
  const [{ createClient }, { redisStore }] = await Promise.all([import('redis'), import('fastify-cognito/redis')])
  const redis: RedisClientType = createClient({ url: config.redisUrl })
  // The app owns the client and its error listener: without one, node-redis would end the process on an error.
  redis.on('error', (error: Error) => { console.error(`Redis: ${error.message}`) })
  await redis.connect()
  setup.cognito = { ...setup.cognito, sessionStore: redisStore({ client: redis }) }
  const url = new URL(config.redisUrl)
  setup.redisLabel = `on Redis at ${url.host} (one small cookie per browser)`
  return redis
}

async function main (): Promise<void> {
  const config = readConfig()
  const setup = await setUp(config)
  const redis = await connectRedis(config, setup)
  const app = await buildDemoApp({ baseUrl: config.baseUrl, cognito: setup.cognito, idpLabel: setup.idpLabel, users: setup.users, logLevel: config.logLevel })

  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    console.log(`\n${signal}: stopping the demo`)
    await app.close()
    await redis?.close()
    await setup.idp?.close()
    console.log('Stopped.')
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop(signal).then(() => process.exit(0), (error: unknown) => {
        console.error(error)
        process.exit(1)
      })
    })
  }

  try {
    // Fastify's own line (LOG_LEVEL=info) would name the socket address, a second address to open: name the one.
    await app.listen({ host: config.host, port: config.port, listenTextResolver: (address) => `Listening on ${address}; open ${setup.urls.home}` })
  } catch (error) {
    await redis?.close()
    await setup.idp?.close()
    throw error
  }
  console.log(banner(setup))
}

main().catch((error: unknown) => {
  const code = (error as { code?: string }).code
  console.error(`The demo could not start: ${error instanceof Error ? error.message : String(error)}`)
  if (code === 'EADDRINUSE') console.error('Another program uses that port: set PORT (app) or LOCAL_COGNITO_PORT (local IdP), e.g. PORT=3100 npm run example')
  process.exit(1)
})
