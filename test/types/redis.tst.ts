import Fastify from 'fastify'
import { createClient, createCluster } from 'redis'
import { describe, expect, test } from 'tstyche'
import fastifyCognito, { type CognitoSessionStore, type FastifyCognitoOptions } from '../../lib/index.js'
import { redisStore } from '../../lib/redis/index.js'

const signIn = {
  userPoolId: 'eu-west-1_AbCdEf123',
  clientId: 'client',
  domain: 'https://auth.example.com',
  redirectUri: 'https://app.example.com/login/redirect',
  sessionSecret: 'a-session-secret-of-at-least-32-characters'
}

describe('the Redis session store', () => {
  test('redisStore takes the clients node-redis creates, plain or with modules, and a cluster', () => {
    expect(redisStore({ client: createClient() })).type.toBe<CognitoSessionStore>()
    expect(redisStore({ client: createClient({ url: 'redis://127.0.0.1:6379', database: 2 }), prefix: 'app:' })).type.toBe<CognitoSessionStore>()
    expect(redisStore({ client: createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] }) })).type.toBe<CognitoSessionStore>()
  })

  test('redisStore refuses what is not a client', () => {
    expect(redisStore).type.not.toBeCallableWith({ client: {} })
    expect(redisStore).type.not.toBeCallableWith({})
  })

  test('sessionStore and its options are plugin options', () => {
    const options: FastifyCognitoOptions = { ...signIn, sessionStore: redisStore({ client: createClient() }), sessionStoreTimeout: 300, revocationFailOpen: false }
    expect(Fastify().register(fastifyCognito, options)).type.not.toRaiseError()
    expect<FastifyCognitoOptions>().type.not.toBeAssignableFrom({ ...signIn, sessionStore: { get: async () => null } })
  })

  test('the decorators of sign out everywhere', async () => {
    const app = Fastify()
    await app.register(fastifyCognito, { ...signIn, sessionStore: redisStore({ client: createClient() }) })
    expect(app.cognito.endSessions('sub')).type.toBe<Promise<number>>()
    app.get('/', async (request, reply) => {
      expect(request.cognito.logoutEverywhere(reply)).type.toBe<Promise<typeof reply>>()
      return await request.cognito.logoutEverywhere(reply)
    })
  })
})
