import Fastify, { type FastifyRequest, type preHandlerAsyncHookHandler } from 'fastify'
import { describe, expect, test } from 'tstyche'
import fastifyCognito, {
  CognitoError,
  CognitoForbiddenError,
  CognitoOptionsError,
  CognitoInvalidOptionError,
  fastifyCognito as namedExport,
  type CognitoErrorCode,
  type CognitoAccessTokenPayload,
  type CognitoIdTokenPayload,
  type CognitoUser,
  type FastifyCognitoOptions
} from '../../lib/index.js'

declare module '../../lib/index.js' {
  interface FastifyCognitoClaims {
    'custom:tenant'?: string
  }
}

describe('registration', () => {
  test('default and named exports are the same plugin', () => {
    expect(namedExport).type.toBe(fastifyCognito)
  })

  test('the options are checked', () => {
    const app = Fastify()
    const options: FastifyCognitoOptions = {
      userPoolId: 'eu-west-1_AbCdEf123',
      clientId: 'abc',
      domain: 'https://x.auth.eu-west-1.amazoncognito.com',
      redirectUri: 'https://app.example.com/login/redirect',
      sessionSecret: ['x'.repeat(32)]
    }
    expect(app.register(fastifyCognito, options)).type.not.toRaiseError()
    expect(app.register(fastifyCognito, { ...options, scopes: 'openid' })).type.toRaiseError()
    expect<FastifyCognitoOptions>().type.not.toBeAssignableFrom({ clientId: 'abc' })
  })
})

describe('decorators', () => {
  const app = Fastify()

  test('app.cognito.requireAuth returns a preHandler', () => {
    expect(app.cognito.requireAuth()).type.toBe<preHandlerAsyncHookHandler>()
    expect(app.cognito.requireAuth({ groups: ['admin'], anyGroup: true, scopes: ['orders/read'] })).type.toBe<preHandlerAsyncHookHandler>()
    expect(app.cognito.requireAuth).type.not.toBeCallableWith({ groups: 'admin' })
  })

  test('verifyAccessToken resolves to the access-token claims', () => {
    expect(app.cognito.verifyAccessToken('t')).type.toBe<Promise<CognitoAccessTokenPayload>>()
    expect(app.cognito.verifyIdToken('t', { nonce: 'n' })).type.toBe<Promise<CognitoIdTokenPayload>>()
  })

  test('request.user and request.tokenPayload are typed, and nullable', () => {
    expect<FastifyRequest['user']>().type.toBe<CognitoUser | null>()
    expect<FastifyRequest['tokenPayload']>().type.toBe<CognitoAccessTokenPayload | null>()
    app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => {
      expect(request.user?.groups).type.toBe<string[] | undefined>()
      expect(request.tokenPayload?.client_id).type.toBe<string | undefined>()
      expect(request.tokenPayload?.['cognito:groups']).type.toBe<string[] | undefined>()
      return null
    })
  })

  test('custom claims merged into FastifyCognitoClaims flow into handlers', () => {
    app.get('/tenant', async (request) => {
      expect(request.tokenPayload?.['custom:tenant']).type.toBe<string | undefined>()
      expect(request.user?.claims['custom:tenant']).type.toBe<string | undefined>()
      return null
    })
  })
})

describe('errors', () => {
  test('errors carry code and statusCode', () => {
    const error = new CognitoForbiddenError('no')
    expect(error).type.toBeAssignableTo<CognitoError>()
    // A closed union, as jose's: `switch (error.code)` narrows, and a misspelt code is a type error.
    expect(error.code).type.toBe<CognitoErrorCode>()
    expect<'FST_COGNITO_FORBIDDEN'>().type.toBeAssignableTo<CognitoErrorCode>()
    expect<'FST_COGNITO_NO_SUCH_CODE'>().type.not.toBeAssignableTo<CognitoErrorCode>()
    expect(error.statusCode).type.toBe<number>()
    expect(error.missingGroups).type.toBe<readonly string[]>()
  })

  test('the old class names stay as aliases of the renamed classes', () => {
    expect(new CognitoOptionsError('x')).type.toBe<CognitoInvalidOptionError>()
    expect<CognitoOptionsError>().type.toBe<CognitoInvalidOptionError>()
  })
})

declare module '../../lib/index.js' {
  interface FastifyCognitoSessionData {
    tenantId?: string
  }
}

describe('session life cycle', () => {
  const app = Fastify()

  test('hooks are typed', () => {
    const options: FastifyCognitoOptions = {
      userPoolId: 'eu-west-1_AbCdEf123',
      clientId: 'abc',
      domain: 'https://x.auth.eu-west-1.amazoncognito.com',
      redirectUri: 'https://app.example.com/login/redirect',
      sessionSecret: 'x'.repeat(32),
      authorizationParams: { identity_provider: 'Google', prompt: 'login' },
      onLogin: async (_request, { user, tokens }) => {
        expect(user).type.toBe<CognitoUser>()
        expect(tokens.refreshToken).type.toBe<string | undefined>()
        return { tenantId: 'acme' }
      },
      onLogout: async (_request, user) => {
        expect(user).type.toBe<CognitoUser | null>()
      }
    }
    expect(options.autoRefresh).type.toBe<boolean | undefined>()
    expect<FastifyCognitoOptions>().type.not.toBeAssignableFrom({ ...options, authorizationParams: { prompt: 'always' } })
  })

  test('request.cognito helpers and the session data are typed', () => {
    app.get('/x', async (request, reply) => {
      expect(request.cognito.sessionData?.tenantId).type.toBe<string | undefined>()
      expect(request.cognito.isAuthenticated()).type.toBe<Promise<boolean>>()
      expect(request.cognito.refresh(reply)).type.toBe<Promise<{ expiresAt: number }>>()
      return request.cognito.login(reply, { returnTo: '/x', identityProvider: 'Google' })
    })
  })

  test('check predicates receive the user and the request', () => {
    expect(app.cognito.requireAuth({ maxAge: 300, check: async (user, request) => user.groups.includes(request.hostname) })).type.toBe<preHandlerAsyncHookHandler>()
    expect(app.cognito.requireAuth).type.not.toBeCallableWith({ check: (user: CognitoUser) => user.username })
  })
})

describe('options under exactOptionalPropertyTypes (this folder compiles with it)', () => {
  test('optional options take undefined, as process.env gives', () => {
    const env: Record<string, string | undefined> = {}
    expect<FastifyCognitoOptions>().type.toBeAssignableFrom({
      userPoolId: 'eu-west-1_AbCdEf123',
      clientId: 'client',
      clientSecret: env.COGNITO_CLIENT_SECRET,
      logoutUri: env.LOGOUT_URI,
      domain: 'https://auth.example.com',
      redirectUri: 'https://app.example.com/login/redirect',
      sessionSecret: 'a'.repeat(32)
    })
  })
})
