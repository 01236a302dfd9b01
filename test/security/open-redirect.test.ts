import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { buildApp, login, pluginOptions, startIdp } from '../helpers/app.js'

// returnTo survives the round trip through Cognito only when it is a same-origin path; otherwise the login ends on
// afterLoginRedirect. Each attack is one test.
const attacks: Record<string, string> = {
  'protocol-relative //evil.com': '//evil.com',
  'backslash /\\evil.com': '/\\evil.com',
  'absolute https://evil.com': 'https://evil.com',
  'encoded /%2F%2Fevil.com': '/%2F%2Fevil.com',
  'encoded backslash /%5Cevil.com': '/%5Cevil.com',
  'javascript: URL': 'javascript:alert(document.cookie)',
  'tab before //evil.com': '\t//evil.com',
  'tab inside /\\t/evil.com': '/\t/evil.com',
  'newline inside /\\n/evil.com': '/\n/evil.com',
  'over-long path (5,000 characters)': '/' + 'a'.repeat(5000),
  'scheme without slashes https:evil.com': 'https:evil.com',
  'data: URL': 'data:text/html,<script>alert(1)</script>'
}

for (const [name, returnTo] of Object.entries(attacks)) {
  test(`returnTo ${name} ends on afterLoginRedirect`, async (t) => {
    const idp = await startIdp(t)
    const app = await buildApp(t, idp, 'public', { afterLoginRedirect: '/home' })
    const { callback } = await login(app, idp, { returnTo })
    assert.equal(callback.statusCode, 302)
    assert.equal(callback.headers.location, '/home')
  })
}

test('a same-origin returnTo with a query survives the round trip', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { afterLoginRedirect: '/home' })
  const { callback } = await login(app, idp, { returnTo: '/orders?page=2' })
  assert.equal(callback.headers.location, '/orders?page=2')
})

test('the guard never puts an unsafe path into its login redirect', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.get('//evil.com/me', { preHandler: app.cognito.requireAuth() }, async () => 'never')
  const response = await app.inject({ url: '//evil.com/me', headers: { accept: 'text/html' } })
  assert.equal(response.statusCode, 302)
  assert.equal(response.headers.location, '/login')
})
