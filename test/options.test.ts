import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveOptions, type FastifyCognitoOptions } from '../lib/options.js'
import { CognitoOptionsError } from '../lib/errors.js'

const valid: FastifyCognitoOptions = {
  userPoolId: 'eu-west-1_AbCdEf123',
  clientId: '1example23456789abcdefghij',
  domain: 'https://myapp.auth.eu-west-1.amazoncognito.com',
  redirectUri: 'https://app.example.com/login/redirect',
  sessionSecret: 'a'.repeat(32)
}

function rejects (overrides: Record<string, unknown>, option: string, pattern?: RegExp): void {
  assert.throws(() => resolveOptions({ ...valid, ...overrides } as FastifyCognitoOptions), (error: unknown) => {
    assert.ok(error instanceof CognitoOptionsError)
    assert.equal(error.code, 'FST_COGNITO_INVALID_OPTION')
    assert.match(error.message, new RegExp(`"${option.replace(/[[\]]/g, '\\$&')}"`))
    if (pattern !== undefined) assert.match(error.message, pattern)
    return true
  })
}

test('defaults are applied', () => {
  const options = resolveOptions(valid)
  assert.equal(options.region, 'eu-west-1')
  assert.equal(options.issuer, 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123')
  assert.equal(options.jwksUri, 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json')
  assert.deepEqual(options.signIn?.scopes, ['openid', 'email', 'profile'])
  assert.equal(options.prefix, '')
  assert.equal(options.signIn?.afterLoginRedirect, '/')
  assert.equal(options.signIn?.secureCookies, true)
  assert.equal(options.signIn?.cookieName, 'cognito')
  assert.equal(options.signIn?.clientSecret, undefined)
  assert.equal(options.httpTimeout, 5000)
  assert.equal(options.clockTolerance, 5)
  assert.equal(options.jwksCooldown, 30_000)
  assert.equal(options.signIn?.maxSessionAge, 30 * 24 * 3600)
  assert.equal(options.prefetchJwks, true)
  assert.equal(options.signIn?.sessionKeys.length, 1)
  assert.equal(options.signIn?.sessionKeys[0]?.length, 32)
})

test('the domain loses its trailing slash and the issuer override is used as given', () => {
  const options = resolveOptions({ ...valid, domain: 'https://auth.example.com/', issuer: 'http://127.0.0.1:9011/eu-west-1_AbCdEf123' })
  assert.equal(options.signIn?.domain, 'https://auth.example.com')
  assert.equal(options.issuer, 'http://127.0.0.1:9011/eu-west-1_AbCdEf123')
  assert.equal(options.jwksUri, 'http://127.0.0.1:9011/eu-west-1_AbCdEf123/.well-known/jwks.json')
})

test('options must be an object', () => {
  assert.throws(() => resolveOptions(undefined as unknown as FastifyCognitoOptions), CognitoOptionsError)
})

test('userPoolId is required', () => rejects({ userPoolId: undefined }, 'userPoolId', /required/))
test('userPoolId must be <region>_<id>', () => rejects({ userPoolId: 'AbCdEf123' }, 'userPoolId', /region/))
test('region must agree with userPoolId', () => rejects({ region: 'us-east-1' }, 'region', /does not match/))
test('region may repeat the pool region', () => assert.equal(resolveOptions({ ...valid, region: 'eu-west-1' }).region, 'eu-west-1'))
test('clientId is required', () => rejects({ clientId: '' }, 'clientId', /required/))
test('clientId rejects odd characters', () => rejects({ clientId: 'abc def' }, 'clientId'))
test('clientSecret, when given, must not be empty', () => rejects({ clientSecret: '' }, 'clientSecret'))
test('clientSecret makes a confidential client', () => assert.equal(resolveOptions({ ...valid, clientSecret: 's3cret' }).signIn?.clientSecret, 's3cret'))
test('domain is required', () => rejects({ domain: undefined }, 'domain', /required/))
test('domain must be a URL', () => rejects({ domain: 'myapp.auth.amazoncognito.com' }, 'domain', /absolute URL/))
test('domain must be https off loopback', () => rejects({ domain: 'http://myapp.auth.eu-west-1.amazoncognito.com' }, 'domain', /https/))
test('domain must have no path', () => rejects({ domain: 'https://auth.example.com/oauth2' }, 'domain', /without a path/))
test('domain must have no query', () => rejects({ domain: 'https://auth.example.com/?a=1' }, 'domain', /query/))
test('domain must have no credentials', () => rejects({ domain: 'https://u:p@auth.example.com' }, 'domain', /credentials/))
test('domain accepts http on 127.0.0.1', () => assert.equal(resolveOptions({ ...valid, domain: 'http://127.0.0.1:9011' }).signIn?.domain, 'http://127.0.0.1:9011'))
test('redirectUri is required', () => rejects({ redirectUri: undefined }, 'redirectUri', /required/))
test('redirectUri must be https off loopback', () => rejects({ redirectUri: 'http://app.example.com/login/redirect' }, 'redirectUri', /https/))
test('redirectUri must have no fragment', () => rejects({ redirectUri: 'https://app.example.com/login/redirect#x' }, 'redirectUri', /fragment/))
test('logoutUri must be a URL', () => rejects({ logoutUri: '/bye' }, 'logoutUri', /absolute URL/))
test('scopes must be a non-empty array', () => rejects({ scopes: [] }, 'scopes'))
test('scopes must be valid scope tokens', () => rejects({ scopes: ['openid', 'two words'] }, 'scopes', /invalid scope/))
test('email, phone and profile need openid', () => rejects({ scopes: ['email'] }, 'scopes', /openid/))
test('custom scopes work without openid', () => assert.deepEqual(resolveOptions({ ...valid, scopes: ['orders/read'] }).signIn?.scopes, ['orders/read']))
test('sessionSecret is required', () => rejects({ sessionSecret: undefined }, 'sessionSecret', /32 characters/))
test('sessionSecret must be 32 characters or more', () => rejects({ sessionSecret: 'short' }, 'sessionSecret', /32 characters/))
test('sessionSecret arrays must not be empty', () => rejects({ sessionSecret: [] }, 'sessionSecret', /empty/))
test('every sessionSecret of an array is checked', () => rejects({ sessionSecret: ['a'.repeat(32), 'short'] }, 'sessionSecret[1]'))
test('sessionSecret arrays rotate: one key each, distinct', () => {
  const keys = resolveOptions({ ...valid, sessionSecret: ['a'.repeat(32), 'b'.repeat(32)] }).signIn?.sessionKeys ?? []
  assert.equal(keys.length, 2)
  assert.notDeepEqual(keys[0], keys[1])
})
test('issuer must be a URL', () => rejects({ issuer: 'not a url' }, 'issuer', /absolute URL/))
test('jwksUri must be https off loopback', () => rejects({ jwksUri: 'http://keys.example.com/jwks.json' }, 'jwksUri', /https/))
test('prefix must start with a slash', () => rejects({ prefix: 'auth' }, 'prefix'))
test('prefix must not end with a slash', () => rejects({ prefix: '/auth/' }, 'prefix'))
test('prefix is kept', () => assert.equal(resolveOptions({ ...valid, prefix: '/auth' }).prefix, '/auth'))
test('afterLoginRedirect must be a same-origin path', () => rejects({ afterLoginRedirect: 'https://evil.example' }, 'afterLoginRedirect'))
test('afterLoginRedirect refuses protocol-relative paths', () => rejects({ afterLoginRedirect: '//evil.example' }, 'afterLoginRedirect'))
test('cookieName must be a plain token', () => rejects({ cookieName: 'a;b' }, 'cookieName'))
test('secureCookies must be a boolean', () => rejects({ secureCookies: 'yes' }, 'secureCookies'))
test('secureCookies defaults to false only for a loopback http redirectUri', () => {
  assert.equal(resolveOptions({ ...valid, redirectUri: 'http://localhost:3000/login/redirect' }).signIn?.secureCookies, false)
  assert.equal(resolveOptions({ ...valid, redirectUri: 'http://127.0.0.1:3000/login/redirect' }).signIn?.secureCookies, false)
  assert.equal(resolveOptions({ ...valid, redirectUri: 'http://localhost:3000/login/redirect', secureCookies: true }).signIn?.secureCookies, true)
})
test('httpTimeout must be a positive whole number', () => rejects({ httpTimeout: 0 }, 'httpTimeout'))
test('clockTolerance may be 0 but not negative', () => {
  assert.equal(resolveOptions({ ...valid, clockTolerance: 0 }).clockTolerance, 0)
  rejects({ clockTolerance: -1 }, 'clockTolerance')
})
test('jwksCooldown must be a whole number', () => rejects({ jwksCooldown: 1.5 }, 'jwksCooldown'))
test('maxSessionAge must be positive', () => rejects({ maxSessionAge: -5 }, 'maxSessionAge'))
test('prefetchJwks must be a boolean', () => rejects({ prefetchJwks: 1 }, 'prefetchJwks'))
test('jwks must hold a usable RSA key', () => rejects({ jwks: { keys: [{ kty: 'EC' }] } }, 'jwks', /RSA signing key/))
test('jwks must be a JWKS document', () => rejects({ jwks: [] }, 'jwks'))
test('tokenCacheSize: default 10000, sessions a tenth; 0 turns the caches off; whole numbers up to 1e6 only', () => {
  const defaults = resolveOptions(valid)
  assert.equal(defaults.tokenCacheSize, 10_000)
  assert.equal(defaults.sessionCacheSize, 1000)
  const off = resolveOptions({ ...valid, tokenCacheSize: 0 })
  assert.equal(off.tokenCacheSize, 0)
  assert.equal(off.sessionCacheSize, 0)
  assert.equal(resolveOptions({ ...valid, tokenCacheSize: 5 }).sessionCacheSize, 1)
  rejects({ tokenCacheSize: -1 }, 'tokenCacheSize')
  rejects({ tokenCacheSize: 1.5 }, 'tokenCacheSize')
  rejects({ tokenCacheSize: '100' }, 'tokenCacheSize')
  rejects({ tokenCacheSize: 1_000_001 }, 'tokenCacheSize')
})
test('hooks and the clock must be functions', () => {
  for (const option of ['onLogin', 'onRefresh', 'onLogout', 'now']) rejects({ [option]: 'not a function' }, option, /must be a function/)
  const now = (): number => 0
  const onLogin = async (): Promise<undefined> => undefined
  const resolved = resolveOptions({ ...valid, now, onLogin })
  assert.equal(resolved.now, now)
  assert.equal(resolved.signIn?.onLogin, onLogin)
  assert.equal(resolved.signIn?.onRefresh, undefined)
  assert.equal(resolveOptions(valid).now, Date.now, 'the default clock')
})
test('authorizationParams: an object of allowed, well-formed sign-in parameters, copied', () => {
  for (const value of [null, 'lang=de', ['lang']]) rejects({ authorizationParams: value }, 'authorizationParams', /must be an object/)
  rejects({ authorizationParams: { scope: 'openid' } }, 'authorizationParams.scope', /is not one of identity_provider/)
  rejects({ authorizationParams: { lang: 'not a language' } }, 'authorizationParams.lang', /invalid value/)
  rejects({ authorizationParams: { prompt: 1 } }, 'authorizationParams.prompt', /invalid value/)
  const given = { identity_provider: 'Google', prompt: 'select_account' as const }
  const resolved = resolveOptions({ ...valid, authorizationParams: given }).signIn?.authorizationParams
  assert.deepEqual(resolved, given)
  assert.notEqual(resolved, given)
  assert.deepEqual(resolveOptions(valid).signIn?.authorizationParams, {})
})
test('booleans, their defaults, and refreshSkew', () => {
  const defaults = resolveOptions(valid)
  assert.deepEqual([defaults.signIn?.autoRefresh, defaults.signIn?.userInfo, defaults.signIn?.refreshSkew], [true, false, 30])
  rejects({ autoRefresh: 'no' }, 'autoRefresh')
  rejects({ userInfo: 1 }, 'userInfo')
  assert.equal(resolveOptions({ ...valid, refreshSkew: 0 }).signIn?.refreshSkew, 0)
  rejects({ refreshSkew: 1.5 }, 'refreshSkew')
})
test('logoutUri may carry a query; loopback over plain http includes [::1]; scopes lose duplicates', () => {
  assert.equal(resolveOptions({ ...valid, logoutUri: 'https://app.example.com/?signed-out=1' }).signIn?.logoutUri, 'https://app.example.com/?signed-out=1')
  assert.equal(resolveOptions({ ...valid, redirectUri: 'http://[::1]:3000/login/redirect' }).signIn?.secureCookies, false)
  assert.deepEqual(resolveOptions({ ...valid, scopes: ['openid', 'email', 'openid'] }).signIn?.scopes, ['openid', 'email'])
  rejects({ redirectUri: 'ftp://app.example.com/cb' }, 'redirectUri', /https/)
  rejects({ cookieName: 'x'.repeat(33) }, 'cookieName')
  rejects({ prefix: '/a//b' }, 'prefix')
})

/** Every operation of a session store, doing nothing: what option validation looks at. */
function storeLike (overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const store: Record<string, unknown> = {}
  for (const name of ['get', 'create', 'replace', 'delete', 'addToSet', 'removeFromSet', 'setMembers', 'acquireLock', 'releaseLock', 'addExpiring', 'liveMembers', 'publish', 'subscribe']) {
    store[name] = async () => undefined
  }
  return { ...store, ...overrides }
}

test('sessionStore: absent by default (cookie sessions), with a 500 ms bound and fail-closed revocations', () => {
  const options = resolveOptions(valid)
  assert.equal(options.signIn?.sessionStore, undefined)
  assert.equal(options.signIn?.sessionStoreTimeout, 500)
  assert.equal(options.signIn?.revocationFailOpen, false)
})

test('sessionStore: an object with every operation of a store, kept as given', () => {
  const store = storeLike({ keyPrefix: 'myapp:' })
  assert.equal(resolveOptions({ ...valid, sessionStore: store } as unknown as FastifyCognitoOptions).signIn?.sessionStore, store)
  const withoutPrefix = storeLike({ keyPrefix: undefined })
  assert.equal(resolveOptions({ ...valid, sessionStore: withoutPrefix } as unknown as FastifyCognitoOptions).signIn?.sessionStore, withoutPrefix)
})

test('sessionStore: anything else is refused, naming what is missing', () => {
  for (const value of [null, 'redis://localhost:6379', 42, true]) rejects({ sessionStore: value }, 'sessionStore', /must be a session store, such as redisStore\(\{ client \}\) from "fastify-cognito\/redis"/)
  rejects({ sessionStore: {} }, 'sessionStore', /lacks get, create, replace, delete, addToSet, removeFromSet, setMembers, acquireLock, releaseLock, addExpiring, liveMembers, publish, subscribe \(see CognitoSessionStore\)/)
  rejects({ sessionStore: storeLike({ publish: undefined, liveMembers: 'yes' }) }, 'sessionStore', /lacks liveMembers, publish \(/)
  rejects({ sessionStore: storeLike({ keyPrefix: 'app:{tag}:' }) }, 'sessionStore.keyPrefix', /without "\{" or "\}"/)
  rejects({ sessionStore: storeLike({ keyPrefix: 7 }) }, 'sessionStore.keyPrefix')
})

test('sessionStoreTimeout: a whole number of milliseconds from 10 to 60000', () => {
  assert.equal(resolveOptions({ ...valid, sessionStoreTimeout: 10 }).signIn?.sessionStoreTimeout, 10)
  assert.equal(resolveOptions({ ...valid, sessionStoreTimeout: 60_000 }).signIn?.sessionStoreTimeout, 60_000)
  for (const value of [9, 60_001, 0, -1, 1.5, '500', Number.NaN]) rejects({ sessionStoreTimeout: value }, 'sessionStoreTimeout', /must be a whole number from 10 to 60000/)
})

test('revocationFailOpen: a boolean', () => {
  assert.equal(resolveOptions({ ...valid, revocationFailOpen: true }).signIn?.revocationFailOpen, true)
  rejects({ revocationFailOpen: 'yes' }, 'revocationFailOpen', /must be a boolean/)
  rejects({ revocationFailOpen: 1 }, 'revocationFailOpen')
})

test('sessionStore, sessionStoreTimeout and revocationFailOpen need browser sign-in', () => {
  const bearerOnly = { userPoolId: valid.userPoolId, clientId: valid.clientId } as FastifyCognitoOptions
  for (const [option, value] of [['sessionStore', storeLike()], ['sessionStoreTimeout', 500], ['revocationFailOpen', false]] as const) {
    assert.throws(() => resolveOptions({ ...bearerOnly, [option]: value } as FastifyCognitoOptions), (error: unknown) => {
      assert.ok(error instanceof CognitoOptionsError)
      assert.match(error.message, new RegExp(`option "${option}" needs browser sign-in`))
      return true
    })
  }
})
