import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp, login, startIdp } from '../helpers/app.js'
import { startFakeCognito, type FakeHandler } from '../helpers/fake-cognito.js'

const failures: Record<string, FakeHandler> = {
  'answers 500': async (_request, reply) => await reply.code(500).send({}),
  'answers 400 unsupported_token_type': async (_request, reply) => await reply.code(400).send({ error: 'unsupported_token_type' }),
  'never answers': async () => await new Promise(() => {})
}

for (const [name, handler] of Object.entries(failures)) {
  test(`revoke endpoint ${name}: logout still completes and clears every cookie`, async (t) => {
    const idp = await startIdp(t)
    const fake = await startFakeCognito(t, { revoke: handler })
    const { jar } = await login(await buildApp(t, idp), idp)
    const app = await buildApp(t, idp, 'public', { domain: fake.domain, httpTimeout: 300 })
    app.log.level = 'silent'
    const response = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })
    assert.equal(response.statusCode, 302)
    assert.equal(fake.calls.revoke, 1)
    jar.store(response)
    assert.equal(jar.cookies.size, 0)
  })
}
