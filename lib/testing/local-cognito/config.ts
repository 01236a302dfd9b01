import { randomUUID } from 'node:crypto'
import { resolveIdentityProviders } from './federation.js'
import type {
  LocalCognitoClient, LocalCognitoIdentityProvider, LocalCognitoOAuthFlow, LocalCognitoOptions, LocalCognitoUser,
  ResolvedClient, ResolvedUser
} from './types.js'

export const STANDARD_SCOPES = ['openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin']

const DAY_SECONDS = 24 * 60 * 60
const OAUTH_FLOWS = new Set<LocalCognitoOAuthFlow>(['code', 'client_credentials'])

// Claims the server computes itself; letting a user attribute shadow one would mint inconsistent tokens.
const RESERVED_ATTRIBUTES = new Set([
  'sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'auth_time', 'jti', 'origin_jti', 'event_id', 'token_use', 'nonce',
  'at_hash', 'client_id', 'scope', 'username', 'version', 'cognito:username', 'cognito:groups', 'identities'
])

export interface ResolvedConfig {
  host: string
  port: number
  region: string
  userPoolId: string
  users: ResolvedUser[]
  /** Signed in only through their provider: by provider name. */
  federatedUsers: Map<string, ResolvedUser>
  identityProviders: LocalCognitoIdentityProvider[]
  clients: ResolvedClient[]
  loginUi: 'managed-login' | 'classic-hosted-ui'
  logger: boolean
  now: () => number
}

export function resolveConfig (options: LocalCognitoOptions = {}): ResolvedConfig {
  const region = options.region ?? 'us-east-1'
  if (!/^[a-z0-9-]+$/.test(region)) throw new TypeError(`local-cognito: invalid region ${JSON.stringify(region)}`)
  const userPoolId = options.userPoolId ?? `${region}_LOCALpool`
  // The pool id becomes a path segment of the issuer, so it must stay URL-safe (Cognito's own pattern).
  if (!/^[\w-]+_[0-9a-zA-Z]+$/.test(userPoolId)) {
    throw new TypeError(`local-cognito: invalid userPoolId ${JSON.stringify(userPoolId)}`)
  }
  const loginUi = options.loginUi ?? 'managed-login'
  if (loginUi !== 'managed-login' && loginUi !== 'classic-hosted-ui') {
    throw new TypeError(`local-cognito: loginUi must be 'managed-login' or 'classic-hosted-ui', not ${JSON.stringify(loginUi)}`)
  }
  const now = options.now ?? Date.now
  const resourceScopes = (options.resourceServers ?? []).flatMap(server =>
    server.scopes.map(scope => `${server.identifier}/${scope}`))
  const users = (options.users ?? defaultUsers()).map(resolveUser)
  const federation = resolveIdentityProviders(options.identityProviders ?? [], userPoolId, now(), checkAttributes)
  const clients = (options.clients ?? defaultClients()).map(client => resolveClient(client, resourceScopes))
  assertUnique([...users, ...federation.users.values()].map(user => user.username.toLowerCase()), 'username')
  assertUnique(clients.map(client => client.clientId), 'clientId')
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    region,
    userPoolId,
    users,
    federatedUsers: federation.users,
    identityProviders: federation.providers,
    clients,
    loginUi,
    logger: options.logger ?? false,
    now
  }
}

function defaultUsers (): LocalCognitoUser[] {
  return [
    { username: 'alice', password: 'alice-password-1', email: 'alice@example.com', groups: ['admin'] },
    { username: 'bob', password: 'bob-password-1', email: 'bob@example.com' }
  ]
}

function defaultClients (): LocalCognitoClient[] {
  const urls = { callbackUrls: ['http://localhost:3000/login/redirect'], logoutUrls: ['http://localhost:3000/'] }
  return [
    { clientId: 'local-public-client', ...urls },
    { clientId: 'local-confidential-client', clientSecret: 'local-confidential-client-secret', ...urls }
  ]
}

function checkAttributes (owner: string, attributes: Record<string, string> | undefined): void {
  for (const name of Object.keys(attributes ?? {})) {
    if (RESERVED_ATTRIBUTES.has(name)) throw new TypeError(`local-cognito: user ${owner} cannot set the reserved attribute ${name}`)
  }
}

function resolveUser (user: LocalCognitoUser): ResolvedUser {
  if (typeof user.username !== 'string' || user.username === '') throw new TypeError('local-cognito: a user needs a username')
  if (typeof user.password !== 'string' || user.password === '') {
    throw new TypeError(`local-cognito: user ${user.username} needs a password`)
  }
  checkAttributes(user.username, user.attributes)
  const resolved: ResolvedUser = { ...user, sub: user.sub ?? randomUUID() }
  if (user.email !== undefined) resolved.emailVerified = user.emailVerified ?? true
  if (user.groups !== undefined) resolved.groups = [...user.groups]
  if (user.attributes !== undefined) resolved.attributes = { ...user.attributes }
  return resolved
}

function resolveClient (client: LocalCognitoClient, resourceScopes: string[]): ResolvedClient {
  if (typeof client.clientId !== 'string' || client.clientId === '') throw new TypeError('local-cognito: a client needs a clientId')
  // AWS documents the 0-60 range of RetryGracePeriodSeconds but no default; 0 is the strict reading.
  const grace = client.rotationGracePeriodSeconds ?? 0
  if (!Number.isInteger(grace) || grace < 0 || grace > 60) {
    throw new TypeError(`local-cognito: rotationGracePeriodSeconds of ${client.clientId} must be an integer from 0 to 60`)
  }
  const flows = resolveFlows(client)
  const machine = flows.includes('client_credentials')
  const resolved: ResolvedClient = {
    ...client,
    callbackUrls: [...client.callbackUrls],
    logoutUrls: [...(client.logoutUrls ?? [])],
    allowedOAuthFlows: flows,
    allowedScopes: [...(client.allowedScopes ?? (machine ? resourceScopes : [...STANDARD_SCOPES, ...resourceScopes]))],
    accessTokenValiditySeconds: client.accessTokenValiditySeconds ?? 3600,
    idTokenValiditySeconds: client.idTokenValiditySeconds ?? 3600,
    refreshTokenValiditySeconds: client.refreshTokenValiditySeconds ?? 30 * DAY_SECONDS,
    refreshTokenRotation: client.refreshTokenRotation ?? false,
    rotationGracePeriodSeconds: grace,
    enableTokenRevocation: client.enableTokenRevocation ?? true
  }
  for (const key of ['accessTokenValiditySeconds', 'idTokenValiditySeconds', 'refreshTokenValiditySeconds'] as const) {
    if (!(resolved[key] > 0)) throw new TypeError(`local-cognito: ${key} of ${client.clientId} must be positive`)
  }
  if (machine) assertMachineScopes(resolved, resourceScopes)
  return resolved
}

/** The combinations CreateUserPoolClient refuses are refused here too, so a test cannot rely on an impossible client. */
function resolveFlows (client: LocalCognitoClient): LocalCognitoOAuthFlow[] {
  // Read as plain strings: the options come from JavaScript too, where nothing stops a typo.
  const given: string[] = client.allowedOAuthFlows ?? ['code']
  const flows = [...new Set(given)].filter((flow): flow is LocalCognitoOAuthFlow => OAUTH_FLOWS.has(flow as LocalCognitoOAuthFlow))
  const where = `allowedOAuthFlows of ${client.clientId}`
  if (flows.length === 0 || flows.length !== new Set(given).size) {
    throw new TypeError(`local-cognito: ${where} must be ['code'] or ['client_credentials']`)
  }
  if (!flows.includes('client_credentials')) return flows
  if (flows.includes('code')) throw new TypeError(`local-cognito: ${where}: client_credentials cannot be combined with code`)
  if (client.clientSecret === undefined) throw new TypeError(`local-cognito: ${where}: client_credentials needs a clientSecret`)
  return flows
}

function assertMachineScopes (client: ResolvedClient, resourceScopes: string[]): void {
  const where = `allowedScopes of ${client.clientId}`
  if (client.allowedScopes.length === 0) {
    throw new TypeError(`local-cognito: ${where}: a client_credentials client needs at least one resource-server scope`)
  }
  const other = client.allowedScopes.find(scope => !resourceScopes.includes(scope))
  if (other !== undefined) {
    throw new TypeError(`local-cognito: ${where}: a client_credentials client may only have resource-server scopes, not ${other}`)
  }
}

function assertUnique (values: string[], what: string): void {
  const seen = new Set<string>()
  for (const value of values) {
    if (seen.has(value)) throw new TypeError(`local-cognito: duplicate ${what} ${value}`)
    seen.add(value)
  }
}
