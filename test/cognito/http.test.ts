import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Agent } from 'undici'
import { CognitoHttpClient, parseJsonObject, type HttpResponse } from '../../lib/cognito/http.js'
import { closedPort, sendJson, startHttpServer } from '../helpers/http-server.js'

// The one HTTP client (undici), against a real server on loopback that answers what each test needs. The timeout
// tests wait for real: the deadline is a timer of undici's and of AbortSignal.timeout, which no clock option moves;
// they keep it short (100-300 ms).
const LIMIT = 256 * 1024

function client (t: TestContext, timeout = 2000): CognitoHttpClient {
  const http = new CognitoHttpClient(timeout)
  t.after(async () => { await http.close() })
  return http
}

interface ErrorShape { code?: string, statusCode?: number, message?: string, cause?: unknown }

test('sends the method, headers and body as given and returns status, headers and body', async (t) => {
  const server = await startHttpServer(t, (_request, response) => {
    response.writeHead(201, { 'content-type': 'application/json', 'x-amzn-requestid': 'r-1' })
    response.end('{"ok":true}')
  })
  const response = await client(t).send({
    method: 'POST',
    url: `${server.origin}/oauth2/token?x=1`,
    endpointName: 'token endpoint',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: 'grant_type=refresh_token&refresh_token=r'
  })
  assert.equal(response.statusCode, 201)
  assert.equal(response.headers['x-amzn-requestid'], 'r-1')
  assert.equal(response.body, '{"ok":true}')
  const [received] = server.requests
  assert.equal(received?.method, 'POST')
  assert.equal(received?.url, '/oauth2/token?x=1')
  assert.equal(received?.headers['content-type'], 'application/x-www-form-urlencoded')
  assert.equal(received?.headers.accept, 'application/json')
  assert.equal(received?.body, 'grant_type=refresh_token&refresh_token=r')
})

test('a GET without a body, and a body in several chunks, joined as UTF-8', async (t) => {
  const server = await startHttpServer(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
    const bytes = Buffer.from('{"name":"Zoë Ünal 日本"}')
    response.write(bytes.subarray(0, 13)) // splits the ë in two
    setTimeout(() => { response.end(bytes.subarray(13)) }, 20)
  })
  const response = await client(t).send({ method: 'GET', url: `${server.origin}/oauth2/userInfo`, endpointName: 'userInfo endpoint' })
  assert.deepEqual(JSON.parse(response.body), { name: 'Zoë Ünal 日本' })
  assert.equal(server.requests[0]?.method, 'GET')
  assert.equal(server.requests[0]?.body, '')
})

test('no answer within the timeout: 504 IdP timeout naming the endpoint, with the cause', async (t) => {
  const server = await startHttpServer(t, () => { /* never answers */ })
  const started = Date.now()
  await assert.rejects(client(t, 200).send({ method: 'POST', url: `${server.origin}/oauth2/token`, endpointName: 'token endpoint', body: 'code=secret-code' }), (error: ErrorShape) => {
    assert.equal(error.code, 'FST_COGNITO_IDP_TIMEOUT')
    assert.equal(error.statusCode, 504)
    assert.equal(error.message, 'Cognito token endpoint did not answer within 200 ms')
    assert.ok(error.cause !== undefined)
    return true
  })
  assert.ok(Date.now() - started < 2000, 'bounded by the timeout')
})

test('headers in time but a body that drips past the deadline: a timeout too', async (t) => {
  const server = await startHttpServer(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.write('{"access_token":"')
    const timer = setInterval(() => { response.write('a') }, 50)
    response.on('close', () => { clearInterval(timer) })
  })
  await assert.rejects(client(t, 300).send({ method: 'GET', url: server.origin, endpointName: 'JWKS endpoint' }), { code: 'FST_COGNITO_IDP_TIMEOUT', message: 'Cognito JWKS endpoint did not answer within 300 ms' })
})

test('a body over 256 KB is cut off: 502 bad response; exactly 256 KB is read', async (t) => {
  let size = LIMIT + 1
  const server = await startHttpServer(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end('x'.repeat(size))
  })
  const http = client(t)
  await assert.rejects(http.send({ method: 'GET', url: server.origin, endpointName: 'token endpoint' }), (error: ErrorShape) => {
    assert.equal(error.code, 'FST_COGNITO_IDP_BAD_RESPONSE')
    assert.equal(error.statusCode, 502)
    assert.equal(error.message, `Cognito token endpoint answered with more than ${LIMIT} bytes`)
    return true
  })
  size = LIMIT
  assert.equal((await http.send({ method: 'GET', url: server.origin, endpointName: 'token endpoint' })).body.length, LIMIT)
})

test('an endless body is cut off at the limit, not read to the end', async (t) => {
  const server = await startHttpServer(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
    const chunk = 'x'.repeat(64 * 1024)
    const pump = (): void => { while (!response.destroyed && response.write(chunk)) { /* until the socket is full */ } }
    response.on('drain', pump)
    pump()
  })
  await assert.rejects(client(t).send({ method: 'GET', url: server.origin, endpointName: 'userInfo endpoint' }), { code: 'FST_COGNITO_IDP_BAD_RESPONSE' })
})

test('nothing listening: 503 IdP unavailable, with the cause', async (t) => {
  const port = await closedPort()
  await assert.rejects(client(t).send({ method: 'POST', url: `http://127.0.0.1:${port}/oauth2/revoke`, endpointName: 'revoke endpoint' }), (error: ErrorShape) => {
    assert.equal(error.code, 'FST_COGNITO_IDP_UNAVAILABLE')
    assert.equal(error.statusCode, 503)
    assert.equal(error.message, 'Cognito revoke endpoint could not be reached')
    assert.equal((error.cause as { code?: string }).code, 'ECONNREFUSED')
    return true
  })
})

test('a connection dropped in the middle of the answer: 503 IdP unavailable', async (t) => {
  const server = await startHttpServer(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
    response.write('{"access_token":')
    setTimeout(() => { response.socket?.destroy() }, 20)
  })
  await assert.rejects(client(t).send({ method: 'GET', url: server.origin, endpointName: 'token endpoint' }), { code: 'FST_COGNITO_IDP_UNAVAILABLE' })
})

test('error statuses are answers, not errors: the caller decides', async (t) => {
  const server = await startHttpServer(t, (_request, response) => { sendJson(response, 500, { error: 'internal' }) })
  const response = await client(t).send({ method: 'GET', url: server.origin, endpointName: 'token endpoint' })
  assert.equal(response.statusCode, 500)
  assert.equal(response.body, '{"error":"internal"}')
})

test('error messages name the endpoint, never the URL, the query or what was sent', async (t) => {
  const server = await startHttpServer(t, () => { /* never answers */ })
  await assert.rejects(client(t, 100).send({ method: 'POST', url: `${server.origin}/oauth2/token?code=query-secret`, endpointName: 'token endpoint', body: 'code_verifier=body-secret' }), (error: ErrorShape) => {
    assert.doesNotMatch(error.message ?? '', /secret|127\.0\.0\.1|oauth2/)
    return true
  })
})

test('close() closes the client\'s own agent, never one it was given', async (t) => {
  const server = await startHttpServer(t, (_request, response) => { sendJson(response, 200, {}) })
  const own = new CognitoHttpClient(1000)
  await own.send({ method: 'GET', url: server.origin, endpointName: 'JWKS endpoint' })
  await own.close()
  await assert.rejects(own.send({ method: 'GET', url: server.origin, endpointName: 'JWKS endpoint' }), { code: 'FST_COGNITO_IDP_UNAVAILABLE' }, 'a closed agent cannot send')

  const agent = new Agent()
  t.after(async () => { await agent.close() })
  const borrowing = new CognitoHttpClient(1000, agent)
  await borrowing.send({ method: 'GET', url: server.origin, endpointName: 'JWKS endpoint' })
  await borrowing.close()
  assert.equal((await borrowing.send({ method: 'GET', url: server.origin, endpointName: 'JWKS endpoint' })).statusCode, 200, 'the given agent still works')
})

const answer = (body: string, statusCode = 200): HttpResponse => ({ statusCode, headers: {}, body })

test('parseJsonObject: the JSON object of a body', () => {
  assert.deepEqual(parseJsonObject(answer('{"a":1,"b":{"c":[1]}}'), 'token endpoint'), { a: 1, b: { c: [1] } })
  assert.deepEqual(parseJsonObject(answer('{}'), 'token endpoint'), {})
})

test('parseJsonObject: a body that is not JSON is a 502 that never quotes it', () => {
  for (const body of ['<html>maintenance</html>', '', '{"a":', 'secret-token-value']) {
    assert.throws(() => parseJsonObject(answer(body, 200), 'token endpoint'), (error: ErrorShape) => {
      assert.equal(error.code, 'FST_COGNITO_IDP_BAD_RESPONSE')
      assert.equal(error.message, 'Cognito token endpoint answered 200 with a body that is not JSON')
      assert.equal(error.cause, undefined, 'no cause: V8\'s message would quote the body')
      return true
    }, body)
  }
})

test('parseJsonObject: JSON that is not an object is a 502', () => {
  for (const body of ['[]', '[{"a":1}]', 'null', '42', '"text"', 'true']) {
    assert.throws(() => parseJsonObject(answer(body, 400), 'JWKS endpoint'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: 'Cognito JWKS endpoint answered 400 with JSON that is not an object' }, body)
  }
})
