import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import fastifySwagger, { type SwaggerOptions } from '@fastify/swagger'
import { Validator } from '@seriousme/openapi-schema-validator'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCognito, { type FastifyCognitoOptions } from '../../lib/index.js'

export const DOMAIN = 'https://auth.example.com'
export const BEARER_ONLY: FastifyCognitoOptions = { userPoolId: 'eu-west-1_TestPool1', clientId: 'web-client', prefetchJwks: false }
export const SIGN_IN: FastifyCognitoOptions = {
  ...BEARER_ONLY,
  domain: DOMAIN,
  redirectUri: 'http://localhost:3000/login/redirect',
  sessionSecret: 'a-session-secret-of-at-least-32-characters',
  scopes: ['openid', 'email', 'orders/read']
}
export const OPENAPI: SwaggerOptions = { openapi: { openapi: '3.0.3', info: { title: 'fixture', version: '1.0.0' } } }

export type Order = 'swagger-first' | 'cognito-first'
export const ORDERS: Order[] = ['swagger-first', 'cognito-first']

/** An app with @fastify/swagger and the plugin in the given order; `routes` adds the routes; ready, closed after. */
export async function documentedApp (t: TestContext, order: Order, options: FastifyCognitoOptions, routes: (app: FastifyInstance) => void | Promise<void>, swagger: SwaggerOptions = OPENAPI): Promise<FastifyInstance> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  if (order === 'swagger-first') await app.register(fastifySwagger, swagger)
  await app.register(fastifyCognito, options)
  if (order === 'cognito-first') await app.register(fastifySwagger, swagger)
  await routes(app)
  await app.ready()
  return app
}

type Json = Record<string, any>

/** The document, after checking it against the OpenAPI JSON schema of its version. */
export async function validDocument (app: FastifyInstance): Promise<Json> {
  const document = app.swagger() as Json
  const validator = new Validator()
  const result = await validator.validate(structuredClone(document))
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2))
  return document
}
