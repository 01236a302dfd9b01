import assert from 'node:assert/strict'
import { test } from 'node:test'
import fastifyCognito from '../../lib/index.js'
import { BEARER_ONLY, DOMAIN, documentedApp, OPENAPI, ORDERS, SIGN_IN, validDocument } from './helpers.js'
import fastifySwagger from '@fastify/swagger'
import Fastify from 'fastify'

const ERROR_PROPERTIES = ['statusCode', 'code', 'error', 'message']

for (const order of ORDERS) {
  test(`${order}: guarded routes get security and error responses, unguarded ones nothing`, async (t) => {
    const app = await documentedApp(t, order, SIGN_IN, (app) => {
      app.get('/public', async () => ({ ok: true }))
      app.get('/me', { preHandler: app.cognito.requireAuth() }, async () => ({ ok: true }))
      app.get('/orders', { preHandler: [app.cognito.requireAuth({ scopes: ['orders/read'] })] }, async () => [])
      app.post('/orders', { preHandler: app.cognito.requireAuth({ scopes: ['orders/write', 'orders/admin'], anyScope: true }) }, async () => ({}))
      app.get('/admin', { preHandler: app.cognito.requireAuth({ groups: ['admin'] }) }, async () => ({}))
      app.get('/maybe', { preHandler: app.cognito.requireAuth({ optional: true }) }, async () => ({}))
    })
    const document = await validDocument(app)

    assert.deepEqual(document.components.securitySchemes, {
      cognito: {
        type: 'oauth2',
        description: 'Sign in with the Cognito user pool (authorization code with PKCE, a public app client).',
        flows: {
          authorizationCode: {
            authorizationUrl: `${DOMAIN}/oauth2/authorize`,
            tokenUrl: `${DOMAIN}/oauth2/token`,
            refreshUrl: `${DOMAIN}/oauth2/token`,
            scopes: {
              openid: 'Asked for at sign-in',
              email: 'Asked for at sign-in',
              'orders/read': 'Asked for at sign-in',
              'orders/write': 'Required by a route',
              'orders/admin': 'Required by a route'
            }
          }
        }
      },
      cognitoBearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Cognito access token: `Authorization: Bearer <access token>`.' }
    })

    const publicRoute = document.paths['/public'].get
    assert.equal(publicRoute.security, undefined)
    assert.deepEqual(Object.keys(publicRoute.responses), ['200'])

    const me = document.paths['/me'].get
    assert.deepEqual(me.security, [{ cognito: [] }, { cognitoBearer: [] }])
    assert.deepEqual(Object.keys(me.responses).sort(), ['200', '401'])
    assert.deepEqual(Object.keys(me.responses['401'].content['application/json'].schema.properties), ERROR_PROPERTIES)
    assert.match(me.responses['401'].description, /FST_COGNITO_UNAUTHENTICATED/)

    const orders = document.paths['/orders']
    assert.deepEqual(orders.get.security, [{ cognito: ['orders/read'] }, { cognitoBearer: [] }])
    assert.deepEqual(Object.keys(orders.get.responses).sort(), ['200', '401', '403'])
    assert.deepEqual(orders.post.security, [{ cognito: ['orders/write'] }, { cognito: ['orders/admin'] }, { cognitoBearer: [] }], 'anyScope: one alternative per scope')

    const admin = document.paths['/admin'].get
    assert.deepEqual(admin.security, [{ cognito: [] }, { cognitoBearer: [] }])
    assert.match(admin.responses['403'].description, /FST_COGNITO_FORBIDDEN/)
    assert.deepEqual(document.paths['/maybe'].get.security, [{ cognito: [] }, { cognitoBearer: [] }, {}], 'optional: anonymous is an alternative')
  })
}

test('swagger first: the plugin\'s routes are documented under a tag', async (t) => {
  const app = await documentedApp(t, 'swagger-first', SIGN_IN, () => {})
  const document = await validDocument(app)
  assert.deepEqual(Object.keys(document.paths).sort(), ['/login', '/login/redirect', '/logout', '/refresh'])
  assert.deepEqual(Object.keys(document.paths['/logout']).sort(), ['get', 'post'])
  for (const path of Object.values(document.paths) as Array<Record<string, any>>) {
    for (const operation of Object.values(path)) {
      assert.deepEqual(operation.tags, ['Authentication'])
      assert.equal(typeof operation.summary, 'string')
      assert.equal(operation.security, undefined)
    }
  }
  const login = document.paths['/login'].get
  assert.ok(login.parameters.some((parameter: { name: string, in: string }) => parameter.name === 'returnTo' && parameter.in === 'query'))
  assert.deepEqual(Object.keys(login.responses), ['302'])
  assert.deepEqual(Object.keys(document.paths['/refresh'].post.responses).sort(), ['200', '401', '403'])
})

test('fastify-cognito first: @fastify/swagger never sees the plugin\'s routes (registered before it), nor guarded routes registered before it', async (t) => {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, SIGN_IN)
  app.get('/early', { preHandler: app.cognito.requireAuth() }, async () => ({}))
  await app.register(fastifySwagger, OPENAPI)
  app.get('/late', { preHandler: app.cognito.requireAuth() }, async () => ({}))
  await app.ready()
  const document = await validDocument(app)
  assert.deepEqual(Object.keys(document.paths), ['/late'])
  assert.deepEqual(document.paths['/late'].get.security, [{ cognito: [] }, { cognitoBearer: [] }])
})

test('a route\'s own security and error responses win', async (t) => {
  const app = await documentedApp(t, 'swagger-first', SIGN_IN, (app) => {
    app.get('/own', {
      preHandler: app.cognito.requireAuth({ groups: ['admin'] }),
      schema: {
        security: [{ cognitoBearer: [] }],
        response: {
          200: { type: 'object', properties: { ok: { type: 'boolean' } } },
          401: { description: 'Mine', type: 'object', properties: { why: { type: 'string' } } }
        }
      }
    }, async () => ({ ok: true }))
  })
  const own = (await validDocument(app)).paths['/own'].get
  assert.deepEqual(own.security, [{ cognitoBearer: [] }])
  assert.equal(own.responses['401'].description, 'Mine')
  assert.deepEqual(Object.keys(own.responses).sort(), ['200', '401', '403'])
})

test('options: scheme names, tag, hidePluginRoutes', async (t) => {
  const app = await documentedApp(t, 'swagger-first', { ...SIGN_IN, openapi: { securitySchemeNames: { oauth2: 'userPool', bearer: 'jwt' }, hidePluginRoutes: true } }, (app) => {
    app.get('/me', { preHandler: app.cognito.requireAuth() }, async () => ({}))
  })
  const document = await validDocument(app)
  assert.deepEqual(Object.keys(document.components.securitySchemes), ['userPool', 'jwt'])
  assert.deepEqual(Object.keys(document.paths), ['/me'])
  assert.deepEqual(document.paths['/me'].get.security, [{ userPool: [] }, { jwt: [] }])

  const tagged = await documentedApp(t, 'swagger-first', { ...SIGN_IN, openapi: { tag: 'Sign-in' } }, () => {})
  assert.deepEqual((await validDocument(tagged)).paths['/login'].get.tags, ['Sign-in'])
})

test('bearer-only: the bearer scheme alone, no plugin routes', async (t) => {
  const app = await documentedApp(t, 'swagger-first', BEARER_ONLY, (app) => {
    app.get('/me', { preHandler: app.cognito.requireAuth({ scopes: ['orders/read'] }) }, async () => ({}))
  })
  const document = await validDocument(app)
  assert.deepEqual(Object.keys(document.components.securitySchemes), ['cognitoBearer'])
  assert.deepEqual(Object.keys(document.paths), ['/me'])
  assert.deepEqual(document.paths['/me'].get.security, [{ cognitoBearer: [] }])
})

test('schemes the app defines itself under the same name are kept', async (t) => {
  const mine = { type: 'http', scheme: 'bearer', description: 'mine' }
  const app = await documentedApp(t, 'swagger-first', BEARER_ONLY, () => {}, {
    openapi: { openapi: '3.0.3', info: { title: 'fixture', version: '1.0.0' }, components: { securitySchemes: { cognitoBearer: mine as never } } }
  })
  assert.deepEqual((await validDocument(app)).components.securitySchemes.cognitoBearer, mine)
})

test('the YAML document has the schemes too', async (t) => {
  const app = await documentedApp(t, 'swagger-first', SIGN_IN, () => {})
  const yaml = app.swagger({ yaml: true })
  assert.match(yaml, /securitySchemes:\n\s+cognito:\n\s+type: oauth2/)
  assert.match(yaml, /cognitoBearer:\n\s+type: http/)
})

test('a route\'s own swaggerTransform, or the openapi.transform option, runs before the documentation', async (t) => {
  const seen: string[] = []
  const rename = (name: string) => (args: { schema: any, url: string }) => {
    seen.push(`${name} ${args.url}`)
    return { schema: { ...args.schema, summary: name }, url: `${args.url}-x` }
  }
  const app = await documentedApp(t, 'swagger-first', { ...BEARER_ONLY, openapi: { transform: rename('global') } }, (app) => {
    app.get('/a', { preHandler: app.cognito.requireAuth(), config: { swaggerTransform: rename('route') } }, async () => ({}))
    app.get('/b', { preHandler: app.cognito.requireAuth() }, async () => ({}))
    app.get('/c', async () => ({}))
  }, { ...OPENAPI, transform: rename('global') } as never)
  const document = await validDocument(app)
  assert.deepEqual(seen.sort(), ['global /b', 'global /c', 'route /a'])
  assert.deepEqual(Object.keys(document.paths), ['/a-x', '/b-x', '/c-x'])
  assert.equal(document.paths['/a-x'].get.summary, 'route')
  assert.deepEqual(document.paths['/a-x'].get.security, [{ cognitoBearer: [] }])
  assert.equal(document.paths['/b-x'].get.summary, 'global')
  assert.deepEqual(document.paths['/b-x'].get.security, [{ cognitoBearer: [] }])
})

test('OpenAPI 3.1 documents validate too', async (t) => {
  const app = await documentedApp(t, 'cognito-first', SIGN_IN, (app) => {
    app.get('/me', { preHandler: app.cognito.requireAuth({ scopes: ['orders/read'] }) }, async () => ({}))
  }, { openapi: { openapi: '3.1.0', info: { title: 'fixture', version: '1.0.0' } } })
  assert.equal((await validDocument(app)).openapi, '3.1.0')
})

test('Swagger 2.0 is refused with a message that says what to do', async (t) => {
  const app = await documentedApp(t, 'swagger-first', SIGN_IN, () => {}, { swagger: { info: { title: 'fixture', version: '1.0.0' } } })
  assert.throws(() => app.swagger(), /Swagger 2\.0 document.*`openapi` option.*`openapi: false`/)
})

test('openapi: false leaves the document alone', async (t) => {
  const app = await documentedApp(t, 'swagger-first', { ...SIGN_IN, openapi: false }, (app) => {
    app.get('/me', { preHandler: app.cognito.requireAuth() }, async () => ({}))
  })
  const document = await validDocument(app)
  assert.deepEqual(document.components, { schemas: {} })
  assert.equal(document.paths['/me'].get.security, undefined)
  assert.equal(document.paths['/login'].get.summary, undefined)
})

test('without @fastify/swagger: nothing is documented, no route schema changes', async (t) => {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, SIGN_IN)
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async () => ({}))
  let seen: unknown = 'unset'
  app.addHook('onRoute', () => {})
  await app.ready()
  seen = app.hasDecorator('swagger')
  assert.equal(seen, false)
  assert.equal(app.hasPlugin('@fastify/swagger'), false)
})

test('invalid openapi options are refused and named', async () => {
  const cases: Array<[unknown, RegExp]> = [
    ['yes', /option "openapi" must be an object or false/],
    [{ securitySchemeNames: 'x' }, /"openapi.securitySchemeNames" must be an object/],
    [{ securitySchemeNames: { oauth2: 'a b' } }, /"openapi.securitySchemeNames.oauth2" must be/],
    [{ securitySchemeNames: { oauth2: 'x', bearer: 'x' } }, /different names/],
    [{ tag: '' }, /"openapi.tag" must be a non-empty string/],
    [{ hidePluginRoutes: 'no' }, /"openapi.hidePluginRoutes" must be a boolean/],
    [{ transform: 'no' }, /"openapi.transform" must be a function/]
  ]
  for (const [openapi, message] of cases) {
    await assert.rejects(async () => {
      const app = Fastify()
      await app.register(fastifyCognito, { ...BEARER_ONLY, openapi: openapi as never })
    }, message)
  }
})
