import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import type { SignInContext } from '../../lib/context.js'
import { startLogin } from '../../lib/flows/start-login.js'
import { pkceChallenge } from '../../lib/util/random.js'
import { CookieJar, location, pluginOptions, REDIRECT_URI, startIdp, type TestOptions } from '../helpers/app.js'
import { manualClock } from '../helpers/clock.js'
import { buildSignInContext } from '../helpers/context.js'

/** POST /start calls startLogin with the JSON body as its options; GET /transactions shows the cookie's logins. */
async function harness (t: TestContext, overrides: Partial<TestOptions> = {}): Promise<{ app: FastifyInstance, context: SignInContext, domain: string }> {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  const context = await buildSignInContext(t, app, pluginOptions(idp, 'public', overrides))
  app.post('/start', async (request, reply) => startLogin(context, request, reply, request.body as Parameters<typeof startLogin>[3]))
  app.get('/start-bare', async (request, reply) => startLogin(context, request, reply))
  app.get('/transactions', async (request) => context.signIn.loginTransactions.read(request))
  await app.ready()
  return { app, context, domain: idp.domain }
}

test('a 302 to /oauth2/authorize with the code flow, S256 PKCE, a fresh state and nonce, not cached', async (t) => {
  const { app, domain } = await harness(t)
  const response = await app.inject({ url: '/start-bare' })
  assert.equal(response.statusCode, 302)
  assert.equal(response.headers['cache-control'], 'no-store')
  const url = new URL(location(response))
  assert.equal(`${url.origin}${url.pathname}`, `${domain}/oauth2/authorize`)
  const query = Object.fromEntries(url.searchParams)
  assert.deepEqual(Object.keys(query).sort(), ['client_id', 'code_challenge', 'code_challenge_method', 'nonce', 'redirect_uri', 'response_type', 'scope', 'state'])
  assert.equal(query.redirect_uri, REDIRECT_URI)
  assert.equal(query.code_challenge_method, 'S256')
})

test('the login transaction holds what the callback needs: state, verifier (of the challenge sent), nonce, returnTo, when', async (t) => {
  const clock = manualClock(Date.UTC(2031, 0, 1, 12, 0, 0, 900))
  const { app } = await harness(t, { now: clock.now })
  const response = await app.inject({ method: 'POST', url: '/start', payload: { returnTo: '/orders?page=2' } })
  const query = new URL(location(response)).searchParams
  const jar = new CookieJar().store(response)
  const [transaction, ...others] = (await app.inject({ url: '/transactions', headers: { cookie: jar.header } })).json()
  assert.equal(others.length, 0)
  assert.equal(transaction.state, query.get('state'))
  assert.equal(transaction.nonce, query.get('nonce'))
  assert.equal(pkceChallenge(transaction.codeVerifier), query.get('code_challenge'))
  assert.match(transaction.codeVerifier, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(transaction.returnTo, '/orders?page=2')
  assert.equal(transaction.createdAt, Date.UTC(2031, 0, 1, 12, 0, 0) / 1000, 'whole seconds of the plugin\'s clock')
})

test('an unsafe or odd returnTo is dropped, never repaired', async (t) => {
  const { app } = await harness(t)
  for (const returnTo of ['//evil.com', 'https://evil.com', '/\\evil.com', ['/a', '/b'], 42, '']) {
    const jar = new CookieJar().store(await app.inject({ method: 'POST', url: '/start', payload: { returnTo } }))
    const [transaction] = (await app.inject({ url: '/transactions', headers: { cookie: jar.header } })).json()
    assert.equal('returnTo' in transaction, false, JSON.stringify(returnTo))
  }
})

test('without openid there is no nonce, in the URL or the transaction', async (t) => {
  const { app } = await harness(t, { scopes: ['orders/read'] })
  const response = await app.inject({ url: '/start-bare' })
  assert.equal(new URL(location(response)).searchParams.has('nonce'), false)
  const [transaction] = (await app.inject({ url: '/transactions', headers: { cookie: new CookieJar().store(response).header } })).json()
  assert.equal('nonce' in transaction, false)
})

test('sign-in parameters go over the authorizationParams defaults', async (t) => {
  const { app } = await harness(t, { authorizationParams: { identity_provider: 'COGNITO', lang: 'fr' } })
  const query = new URL(location(await app.inject({ method: 'POST', url: '/start', payload: { params: { lang: 'de', prompt: 'login' } } }))).searchParams
  assert.equal(query.get('identity_provider'), 'COGNITO')
  assert.equal(query.get('lang'), 'de')
  assert.equal(query.get('prompt'), 'login')
})

test('a second login in the same browser is added beside the first', async (t) => {
  const { app } = await harness(t)
  const jar = new CookieJar()
  const first = await app.inject({ url: '/start-bare' })
  jar.store(first)
  jar.store(await app.inject({ url: '/start-bare', headers: { cookie: jar.header } }))
  const states = (await app.inject({ url: '/transactions', headers: { cookie: jar.header } })).json().map((tx: { state: string }) => tx.state)
  assert.equal(states.length, 2)
  assert.equal(states[0], new URL(location(first)).searchParams.get('state'))
})
