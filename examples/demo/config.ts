import { randomBytes } from 'node:crypto'

/** Where the demo's settings come from: the environment (and `.env`), with local defaults. */
export interface DemoConfig {
  /** The host and port the app listens on. */
  host: string
  port: number
  /** The app's URL as the browser sees it: `<baseUrl>/login/redirect` is the callback URL. */
  baseUrl: string
  sessionSecret: string
  /** Real Cognito settings, or undefined for the bundled local IdP. */
  cognito: RealCognitoConfig | undefined
  /** Port of the local IdP (local mode only). */
  localCognitoPort: number
  /** Fastify's log level. */
  logLevel: string
  /** Keep sessions on this Redis (`redis://host:port`) instead of in cookies. */
  redisUrl: string | undefined
}

export interface RealCognitoConfig {
  userPoolId: string
  clientId: string
  clientSecret: string | undefined
  domain: string
  /** Only for Cognito-compatible providers (such as the local IdP run on its own); Cognito's is derived. */
  issuer: string | undefined
}

export const DEFAULT_PORT = 3000
/** Where Cognito's /logout sends the browser back to: a page of its own, so the app can say "you are signed out". */
export const SIGNED_OUT_PATH = '/signed-out'

/** The app's addresses as the browser and Cognito see them. */
export interface AppUrls {
  home: string
  redirectUri: string
  logoutUri: string
  /** Swagger UI's OAuth2 callback (its Authorize button): a callback URL of the app client too. */
  docsRedirectUri: string
  docs: string
}

/**
 * Every address of the app that leaves the process (the banner, the plugin's options, the IdP's allowed callback
 * and sign-out URLs) comes from here, so they can never disagree: cookies are per host, and a sign-in started on
 * http://localhost:3000 cannot finish on http://127.0.0.1:3000.
 */
export function appUrls (baseUrl: string): AppUrls {
  return {
    home: `${baseUrl}/`,
    redirectUri: `${baseUrl}/login/redirect`,
    logoutUri: `${baseUrl}${SIGNED_OUT_PATH}`,
    docsRedirectUri: `${baseUrl}/docs/static/oauth2-redirect.html`,
    docs: `${baseUrl}/docs`
  }
}
export const DEFAULT_LOCAL_COGNITO_PORT = 9339

type Env = Record<string, string | undefined>

/** An empty variable counts as unset, so `VAR=` in a shell or `.env` switches a setting back to its default. */
function read (env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/** The demo serves from `/` of one origin: a path, query or fragment in APP_BASE_URL could never match its routes. */
function readBaseUrl (env: Env, fallback: string): string {
  const value = read(env, 'APP_BASE_URL') ?? fallback
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {}
  const originOnly = url !== undefined && ['http:', 'https:'].includes(url.protocol) && url.pathname === '/' &&
    url.search === '' && url.hash === '' && url.username === '' && url.password === ''
  if (url === undefined || !originOnly) {
    throw new Error(`APP_BASE_URL must be the app's origin (scheme, host and port, no path), such as http://localhost:3000, got "${value}"`)
  }
  return url.origin
}

function readPort (env: Env, name: string, fallback: number): number {
  const value = read(env, name)
  if (value === undefined) return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number, got "${value}"`)
  return port
}

function required (env: Env, names: string[]): Record<string, string> {
  const missing = names.filter(name => read(env, name) === undefined)
  if (missing.length > 0) {
    throw new Error(`COGNITO_USER_POOL_ID is set, so the demo runs against a real user pool and also needs: ${missing.join(', ')} (see .env.example)`)
  }
  return Object.fromEntries(names.map(name => [name, read(env, name) as string]))
}

/** Local mode unless COGNITO_USER_POOL_ID is set; then every real-Cognito variable must be there too. */
export function readConfig (env: Env = process.env): DemoConfig {
  const host = read(env, 'HOST') ?? '127.0.0.1'
  const port = readPort(env, 'PORT', DEFAULT_PORT)
  const localCognitoPort = readPort(env, 'LOCAL_COGNITO_PORT', DEFAULT_LOCAL_COGNITO_PORT)
  const logLevel = read(env, 'LOG_LEVEL') ?? 'warn'

  if (read(env, 'COGNITO_USER_POOL_ID') === undefined) {
    return {
      host,
      port,
      baseUrl: readBaseUrl(env, `http://127.0.0.1:${port}`),
      // A new secret per start is fine locally: the local IdP's sessions do not outlive the process either.
      sessionSecret: read(env, 'SESSION_SECRET') ?? randomBytes(32).toString('base64url'),
      cognito: undefined,
      localCognitoPort,
      logLevel,
      redisUrl: read(env, 'REDIS_URL')
    }
  }

  const vars = required(env, ['COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID', 'COGNITO_DOMAIN', 'SESSION_SECRET'])
  return {
    host,
    port,
    // Cognito accepts plain-http callback URLs only on localhost (not 127.0.0.1).
    baseUrl: readBaseUrl(env, `http://localhost:${port}`),
    sessionSecret: vars.SESSION_SECRET as string,
    cognito: {
      userPoolId: vars.COGNITO_USER_POOL_ID as string,
      clientId: vars.COGNITO_CLIENT_ID as string,
      clientSecret: read(env, 'COGNITO_CLIENT_SECRET'),
      domain: vars.COGNITO_DOMAIN as string,
      issuer: read(env, 'COGNITO_ISSUER')
    },
    localCognitoPort,
    logLevel,
    redisUrl: read(env, 'REDIS_URL')
  }
}
