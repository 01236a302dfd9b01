import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp, CLIENT_IDS, LOGOUT_URI, login, startIdp, type ClientMode } from '../helpers/app.js'

for (const mode of ['public', 'confidential'] as ClientMode[]) {
  test(`${mode} client: login -> sign-in form -> callback -> guarded route -> refresh -> logout`, async (t) => {
    const idp = await startIdp(t)
    const app = await buildApp(t, idp, mode)

    const { jar, callback } = await login(app, idp, { username: 'alice', returnTo: '/me?x=1' })
    assert.equal(callback.statusCode, 302)
    assert.equal(callback.headers.location, '/me?x=1')
    assert.equal(idp.requests.tokenAuthorizationCode, 1)
    assert.equal(jar.cookies.has('cognito_login'), false, 'the login transaction is spent')

    const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
    assert.equal(me.statusCode, 200)
    const { user, tokenPayload } = me.json()
    assert.equal(user.username, 'alice')
    assert.equal(user.email, 'alice@example.com')
    assert.equal(user.emailVerified, true)
    assert.deepEqual(user.groups, ['admin', 'editor'])
    assert.ok(user.scopes.includes('openid'))
    assert.equal(user.claims.token_use, 'id', 'the session has the ID token, so claims are its claims')
    assert.equal(tokenPayload.token_use, 'access')
    assert.equal(tokenPayload.client_id, CLIENT_IDS[mode])
    assert.equal(tokenPayload.sub, user.sub)

    const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
    assert.equal(refresh.statusCode, 200)
    assert.equal(typeof refresh.json().expiresAt, 'number')
    assert.equal(idp.requests.tokenRefresh, 1)
    jar.store(refresh)
    const afterRefresh = await app.inject({ url: '/me', headers: { cookie: jar.header } })
    assert.equal(afterRefresh.statusCode, 200)
    assert.notEqual(afterRefresh.json().tokenPayload.jti, tokenPayload.jti, 'a new access token is in the session')
    const refreshAgain = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
    assert.equal(refreshAgain.statusCode, 200, 'the old refresh token was kept (Cognito returned none)')
    jar.store(refreshAgain)

    const logout = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })
    assert.equal(logout.statusCode, 302)
    const destination = new URL(logout.headers.location as string)
    assert.equal(destination.origin + destination.pathname, `${idp.domain}/logout`)
    assert.equal(destination.searchParams.get('client_id'), CLIENT_IDS[mode])
    assert.equal(destination.searchParams.get('logout_uri'), LOGOUT_URI)
    assert.equal(idp.requests.revoke, 1)
    jar.store(logout)
    assert.equal(jar.cookies.size, 0, 'every cookie of the plugin is cleared')

    const afterLogout = await app.inject({ url: '/me', headers: { cookie: jar.header } })
    assert.equal(afterLogout.statusCode, 401)
    const refreshAfterLogout = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
    assert.equal(refreshAfterLogout.statusCode, 401)
  })
}
