import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import { readCookie, readCookieChunks, serializeCookie, setCookie } from '../../lib/session/cookies.js'

test('readCookie finds a cookie by exact name, at the start of a pair only', () => {
  const header = 'theme=dark; __Host-app_session.0=abc.def; __Host-app_session.1=ghi'
  assert.equal(readCookie(header, '__Host-app_session.0='), 'abc.def')
  assert.equal(readCookie(header, '__Host-app_session.1='), 'ghi')
  assert.equal(readCookie(header, '__Host-app_session.2='), undefined)
  assert.equal(readCookie(header, 'theme='), 'dark')
  assert.equal(readCookie(header, 'heme='), undefined, 'a suffix of another name is not the name')
  assert.equal(readCookie(undefined, 'theme='), undefined)
  assert.equal(readCookie('', 'theme='), undefined)
})

test('readCookie: a name inside another cookie\'s value is not a cookie (no smuggling past __Host-)', () => {
  // A sibling domain can set `a` for the parent domain; its value must not be read as the __Host- cookie.
  assert.equal(readCookie('a=x __Host-s.0=forged', '__Host-s.0='), undefined)
  assert.equal(readCookie('a=x__Host-s.0=forged', '__Host-s.0='), undefined)
  assert.equal(readCookie('a=x __Host-s.0=forged; __Host-s.0=real', '__Host-s.0='), 'real')
})

test('readCookie takes the first of duplicate names, trims spaces, keeps empty values', () => {
  assert.equal(readCookie('s=first; s=second', 's='), 'first')
  assert.equal(readCookie('  s=value  ;t=1', 's='), 'value')
  assert.equal(readCookie('t=1;s=value', 's='), 'value', 'no space after the semicolon')
  assert.equal(readCookie('t=1;\ts=value', 's='), 'value')
  assert.equal(readCookie('s=; t=1', 's='), '')
})

test('readCookieChunks: chunks in order whatever their order in the header, up to the first missing or empty one', () => {
  assert.deepEqual(readCookieChunks('a=1; s.1=B; s.0=A; b=2', 's.', 8), ['A', 'B'])
  assert.deepEqual(readCookieChunks('s.0=A; s.2=C', 's.', 8), ['A'], 'a gap ends the session')
  assert.deepEqual(readCookieChunks('s.1=B', 's.', 8), [], 'no first chunk, no session')
  assert.deepEqual(readCookieChunks('s.0=A; s.1=; s.2=C', 's.', 8), ['A'], 'an empty chunk ends it')
  assert.deepEqual(readCookieChunks('s.0=A; s.0=Z; s.1=B', 's.', 8), ['A', 'B'], 'the first of duplicates counts')
  assert.deepEqual(readCookieChunks('s.0=A; s.1=B; s.2=C', 's.', 2), ['A', 'B'], 'at most max')
  assert.deepEqual(readCookieChunks('s.0x=A; s.=B; s.00=C; xs.0=D', 's.', 8), [], 'other names that start alike are not chunks')
  assert.deepEqual(readCookieChunks('p=x s.0=A; s.1=B', 's.', 8), [], 'a chunk inside another cookie\'s value is not a chunk')
  assert.deepEqual(readCookieChunks(undefined, 's.', 8), [])
})

test('serializeCookie: HttpOnly, SameSite=Lax, Path=/, Secure when asked; Max-Age=0 with a past Expires deletes', () => {
  assert.equal(serializeCookie('n', 'v', { maxAge: 60, secure: true }), 'n=v; Max-Age=60; Path=/; HttpOnly; Secure; SameSite=Lax')
  assert.equal(serializeCookie('n', 'v', { maxAge: 60, secure: false }), 'n=v; Max-Age=60; Path=/; HttpOnly; SameSite=Lax')
  assert.equal(serializeCookie('n', '', { maxAge: 0, secure: true }), 'n=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; Secure; SameSite=Lax')
})

test('setCookie over HTTP: one Set-Cookie per name (the last wins), beside the app\'s own @fastify/cookie cookies', async (t) => {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCookie)
  app.get('/', async (_request, reply) => {
    reply.setCookie('app', 'own', { path: '/' })
    setCookie(reply, 'plugin', 'first', { maxAge: 60, secure: false })
    setCookie(reply, 'other', 'kept', { maxAge: 60, secure: false })
    setCookie(reply, 'plugin', '', { maxAge: 0, secure: false })
    reply.header('set-cookie', 'raw=1')
    return { ok: true }
  })
  const response = await app.inject({ url: '/' })
  const cookies = response.cookies as Array<{ name: string, value: string, maxAge?: number }>
  assert.deepEqual(cookies.map((cookie) => cookie.name).sort(), ['app', 'other', 'plugin', 'raw'])
  const plugin = cookies.find((cookie) => cookie.name === 'plugin')
  assert.equal(plugin?.value, '')
  assert.equal(plugin?.maxAge, 0)
})
