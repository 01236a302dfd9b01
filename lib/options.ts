import { CognitoInvalidOptionError } from './errors.js'
import { booleanOption, clientIdList, fail, hookOption, parseUrl, positiveInteger, requireString, withoutTrailingSlash } from './option-rules.js'
import { resolveSignInOptions, type ResolvedSignInOptions } from './options-sign-in.js'
import { parseKeySet } from './tokens/jwks.js'
import type { CognitoOpenApiOptions, CognitoUserPoolOptions, FastifyCognitoOptions } from './types-options.js'

export type { FastifyCognitoOptions } from './types-options.js'
export type { ResolvedSignInOptions } from './options-sign-in.js'

/** One user pool whose tokens the registration accepts. */
export interface ResolvedUserPool {
  userPoolId: string
  region: string
  /** Exact `iss` of its tokens: how a token finds its pool, before any key is fetched. */
  issuer: string
  jwksUri: string
  /** Its app clients whose access tokens are accepted. */
  clientIds: string[]
  jwks: { keys: unknown[] } | undefined
}

/** The options after validation, with every default applied. Internal. */
export interface ResolvedCognitoOptions {
  pools: ResolvedUserPool[]
  /** Every accepted app client, over all pools. */
  clientIds: string[]
  /** The first pool's first client: the one users sign in with when browser sign-in is on. */
  clientId: string
  /** The first pool's id, region, issuer and JWKS URL. */
  userPoolId: string
  region: string
  issuer: string
  jwksUri: string
  /** Browser sign-in; undefined in a bearer-only registration. */
  signIn: ResolvedSignInOptions | undefined
  /** Mount point of the routes (and of the paths the decorator reports in bearer-only mode). */
  prefix: string
  httpTimeout: number
  clockTolerance: number
  jwksCooldown: number
  prefetchJwks: boolean
  tokenCacheSize: number
  /** A tenth of tokenCacheSize (rounded up). */
  sessionCacheSize: number
  isRevoked: FastifyCognitoOptions['isRevoked']
  /** The clock, epoch milliseconds. */
  now: () => number
  /** The OpenAPI documentation's names; undefined when `openapi: false`. */
  openapi: ResolvedOpenApiOptions | undefined
}

export interface ResolvedOpenApiOptions {
  oauth2SchemeName: string
  bearerSchemeName: string
  tag: string
  hidePluginRoutes: boolean
  transform: CognitoOpenApiOptions['transform']
}

/** OpenAPI 3: component names match ^[a-zA-Z0-9.\-_]+$. */
const COMPONENT_NAME = /^[a-zA-Z0-9._-]+$/

function componentName (value: unknown, option: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !COMPONENT_NAME.test(value)) fail(option, 'must be a non-empty string of letters, digits, ".", "-" and "_"')
  return value
}

function resolveOpenApi (value: unknown): ResolvedOpenApiOptions | undefined {
  if (value === false) return undefined
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) fail('openapi', 'must be an object or false')
  const raw = (value ?? {}) as CognitoOpenApiOptions
  const names = raw.securitySchemeNames
  if (names !== undefined && (names === null || typeof names !== 'object' || Array.isArray(names))) fail('openapi.securitySchemeNames', 'must be an object { oauth2?, bearer? }')
  const oauth2SchemeName = componentName(names?.oauth2, 'openapi.securitySchemeNames.oauth2', 'cognito')
  const bearerSchemeName = componentName(names?.bearer, 'openapi.securitySchemeNames.bearer', 'cognitoBearer')
  if (oauth2SchemeName === bearerSchemeName) fail('openapi.securitySchemeNames', 'must give the two schemes different names')
  if (raw.tag !== undefined && (typeof raw.tag !== 'string' || raw.tag.length === 0)) fail('openapi.tag', 'must be a non-empty string')
  return {
    oauth2SchemeName,
    bearerSchemeName,
    tag: raw.tag ?? 'Authentication',
    hidePluginRoutes: booleanOption(raw.hidePluginRoutes, 'openapi.hidePluginRoutes', false),
    transform: hookOption(raw.transform, 'openapi.transform')
  }
}

const USER_POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+$/
const MAX_TOKEN_CACHE_SIZE = 1_000_000

function validatePrefix (value: unknown): string {
  if (value === undefined || value === '') return ''
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(value) || value.endsWith('/') || value.includes('//')) {
    fail('prefix', 'must be empty or a path starting with "/" and not ending with "/", e.g. "/auth"')
  }
  return value
}

function validateTokenCacheSize (value: unknown): number {
  if (value === undefined) return 10_000
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TOKEN_CACHE_SIZE) {
    fail('tokenCacheSize', `must be a whole number from 0 to ${MAX_TOKEN_CACHE_SIZE}`)
  }
  return value
}

function validateJwks (value: unknown, option: string): { keys: unknown[] } | undefined {
  if (value === undefined) return undefined
  try {
    parseKeySet(value)
  } catch (error) {
    fail(option, `must be a JWKS document with at least one RSA signing key of 2048 bits or more (${(error as Error).message})`)
  }
  return value as { keys: unknown[] }
}

/** One pool: `<name>` is how errors name it (`userPoolId`, or `userPools[1].userPoolId`). */
function resolvePool (raw: CognitoUserPoolOptions, at: string): ResolvedUserPool {
  const userPoolId = requireString(raw.userPoolId, `${at}userPoolId`)
  const poolMatch = USER_POOL_ID.exec(userPoolId)
  if (poolMatch === null) fail(`${at}userPoolId`, `must look like "<region>_<id>", e.g. "eu-west-1_AbCdEf123", got "${userPoolId}"`)
  const poolRegion = poolMatch[1] as string
  const region = raw.region === undefined ? poolRegion : requireString(raw.region, `${at}region`)
  if (region !== poolRegion) fail(`${at}region`, `"${region}" does not match the region of userPoolId ("${poolRegion}")`)
  const issuer = raw.issuer === undefined
    ? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
    : withoutTrailingSlash(parseUrl(raw.issuer, `${at}issuer`))
  return {
    userPoolId,
    region,
    issuer,
    jwksUri: raw.jwksUri === undefined ? `${issuer}/.well-known/jwks.json` : parseUrl(raw.jwksUri, `${at}jwksUri`).href,
    clientIds: clientIdList(raw.clientId, `${at}clientId`),
    jwks: validateJwks(raw.jwks, `${at}jwks`)
  }
}

/** `userPoolId` + `clientId` (one pool), or `userPools` (several, chosen by each token's `iss`). */
function resolvePools (raw: FastifyCognitoOptions): ResolvedUserPool[] {
  if (raw.userPools === undefined) {
    return [resolvePool({ userPoolId: raw.userPoolId as string, clientId: raw.clientId as string, region: raw.region, issuer: raw.issuer, jwksUri: raw.jwksUri, jwks: raw.jwks }, '')]
  }
  for (const name of ['userPoolId', 'clientId', 'region', 'issuer', 'jwksUri', 'jwks'] as const) {
    if (raw[name] !== undefined) fail(name, 'goes inside each "userPools" entry when "userPools" is given')
  }
  if (!Array.isArray(raw.userPools) || raw.userPools.length === 0) fail('userPools', 'must be a non-empty array of { userPoolId, clientId }')
  const pools = raw.userPools.map((pool, index) => {
    if (pool === null || typeof pool !== 'object') fail(`userPools[${index}]`, 'must be an object { userPoolId, clientId }')
    return resolvePool(pool, `userPools[${index}].`)
  })
  const issuers = new Set(pools.map((pool) => pool.issuer))
  if (issuers.size !== pools.length) fail('userPools', 'names the same user pool (issuer) twice')
  return pools
}

export function resolveOptions (raw: FastifyCognitoOptions): ResolvedCognitoOptions {
  if (raw === null || typeof raw !== 'object') throw new CognitoInvalidOptionError('fastify-cognito: options are required')
  const pools = resolvePools(raw)
  const first = pools[0] as ResolvedUserPool
  const clientId = first.clientIds[0] as string
  const tokenCacheSize = validateTokenCacheSize(raw.tokenCacheSize)
  return {
    pools,
    clientIds: [...new Set(pools.flatMap((pool) => pool.clientIds))],
    clientId,
    userPoolId: first.userPoolId,
    region: first.region,
    issuer: first.issuer,
    jwksUri: first.jwksUri,
    signIn: resolveSignInOptions(raw, clientId),
    prefix: validatePrefix(raw.prefix),
    httpTimeout: positiveInteger(raw.httpTimeout, 'httpTimeout', 5000),
    clockTolerance: positiveInteger(raw.clockTolerance, 'clockTolerance', 5, { allowZero: true }),
    jwksCooldown: positiveInteger(raw.jwksCooldown, 'jwksCooldown', 30_000, { allowZero: true }),
    prefetchJwks: booleanOption(raw.prefetchJwks, 'prefetchJwks', true),
    tokenCacheSize,
    sessionCacheSize: Math.ceil(tokenCacheSize / 10),
    isRevoked: hookOption(raw.isRevoked, 'isRevoked'),
    now: hookOption(raw.now, 'now') ?? Date.now,
    openapi: resolveOpenApi(raw.openapi)
  }
}
