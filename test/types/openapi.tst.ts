import Fastify from 'fastify'
import { describe, expect, test } from 'tstyche'
import type { CognitoOpenApiOptions, FastifyCognitoOptions } from '../../lib/index.js'

const base: FastifyCognitoOptions = { userPoolId: 'eu-west-1_AbCdEf123', clientId: 'abc' }

describe('openapi option', () => {
  test('an object, or false', () => {
    expect<FastifyCognitoOptions>().type.toBeAssignableFrom({ ...base, openapi: false as const })
    expect<FastifyCognitoOptions>().type.toBeAssignableFrom({ ...base, openapi: { securitySchemeNames: { oauth2: 'pool', bearer: 'jwt' }, tag: 'Auth', hidePluginRoutes: true } })
    expect<FastifyCognitoOptions>().type.not.toBeAssignableFrom({ ...base, openapi: true })
    expect<CognitoOpenApiOptions>().type.not.toBeAssignableFrom({ hidePluginRoutes: 'yes' })
  })

  test('transform takes @fastify/swagger\'s transform shape', () => {
    expect<CognitoOpenApiOptions>().type.toBeAssignableFrom({ transform: ({ schema, url }: { schema: unknown, url: string }) => ({ schema, url }) })
  })
})

describe('guardContext', () => {
  const app = Fastify()
  test('takes an instance and guard options', () => {
    expect(app.cognito.guardContext(app, { groups: ['admin'] })).type.toBe<void>()
    expect(app.cognito.guardContext).type.toBeCallableWith(app)
    expect(app.cognito.guardContext).type.not.toBeCallableWith(app, { groups: 'admin' })
    expect(app.cognito.guardContext).type.not.toBeCallableWith({ groups: ['admin'] })
  })
})
