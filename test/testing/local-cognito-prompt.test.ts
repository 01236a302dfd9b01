import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LocalCognito } from '../../lib/testing/index.js'
import { CALLBACK, authorizeUrl, get, locationOf, signIn, startCognito } from './local-cognito-helpers.js'

/** Where an authorize request with `prompt` (and maybe the session cookie) sends the browser. */
async function authorizeWith (cognito: LocalCognito, prompt: string, cookie?: string): Promise<URL> {
  const response = await get(authorizeUrl(cognito, { state: 's', extra: { prompt } }), cookie === undefined ? {} : { cookie })
  assert.equal(response.status, 302)
  return locationOf(response)
}

function isCallbackWithCode (location: URL): boolean {
  return `${location.origin}${location.pathname}` === CALLBACK && location.searchParams.get('code') !== null
}

test('managed login (the default): prompt=login asks again despite the session cookie, prompt=none never shows a page', async (t) => {
  const cognito = await startCognito(t)
  const { cookie } = await signIn(cognito)

  const forced = await authorizeWith(cognito, 'login', cookie)
  assert.equal(forced.pathname, '/login', 'a new sign-in although the 1-hour session exists')
  assert.equal(forced.searchParams.get('prompt'), 'login', 'the sign-in page keeps the request intact')

  assert.ok(isCallbackWithCode(await authorizeWith(cognito, 'none', cookie)), 'prompt=none with a session: silently a code')
  const silent = await authorizeWith(cognito, 'none')
  assert.equal(`${silent.origin}${silent.pathname}`, CALLBACK)
  assert.deepEqual([silent.searchParams.get('error'), silent.searchParams.get('state')], ['login_required', 's'])
})

test('managed login accepts select_account and consent; locally they change nothing', async (t) => {
  const cognito = await startCognito(t)
  const { cookie } = await signIn(cognito)
  for (const prompt of ['select_account', 'consent']) {
    assert.ok(isCallbackWithCode(await authorizeWith(cognito, prompt, cookie)), `${prompt} with a session: a code`)
    assert.equal((await authorizeWith(cognito, prompt)).pathname, '/login', `${prompt} without a session: the form`)
  }
  const odd = await authorizeWith(cognito, 'always')
  assert.deepEqual([odd.pathname, odd.searchParams.get('error')], ['/login/redirect', 'invalid_request'])
})

test('the classic hosted UI ignores prompt entirely', async (t) => {
  const cognito = await startCognito(t, { loginUi: 'classic-hosted-ui' })
  const { cookie } = await signIn(cognito)
  assert.ok(isCallbackWithCode(await authorizeWith(cognito, 'login', cookie)), 'prompt=login does not force a new sign-in')
  assert.equal(cognito.requests.login, 1, 'no sign-in page the second time')
  assert.equal((await authorizeWith(cognito, 'none')).pathname, '/login', 'prompt=none without a session: the form, no error')
  assert.equal((await authorizeWith(cognito, 'always')).pathname, '/login', 'any value is ignored')
})

test('an unknown loginUi is a configuration error', async (t) => {
  // @ts-expect-error JavaScript callers can pass anything.
  await assert.rejects(startCognito(t, { loginUi: 'modern' }), /loginUi/)
})
