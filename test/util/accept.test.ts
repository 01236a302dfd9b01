import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyRequest } from 'fastify'
import { isBrowserNavigation } from '../../lib/util/accept.js'

/** The two fields isBrowserNavigation reads. */
function request (method: string, accept?: string): FastifyRequest {
  return { method, headers: accept === undefined ? {} : { accept } } as unknown as FastifyRequest
}

test('a GET whose Accept prefers HTML is a browser navigation', () => {
  for (const accept of [
    'text/html',
    'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    'application/xhtml+xml',
    'TEXT/HTML',
    ' text/html ; charset=utf-8',
    'application/json;q=0.5, text/html',
    'text/html, application/json',
    'application/json;q=0.9, text/html;q=0.9'
  ]) {
    assert.equal(isBrowserNavigation(request('GET', accept)), true, accept)
  }
})

test('API clients and everything else are not', () => {
  for (const accept of [
    'application/json',
    '*/*',
    'application/json, text/html;q=0.5',
    'text/html;q=0',
    'text/html;q=abc',
    'text/plain',
    'text/htmlx',
    ''
  ]) {
    assert.equal(isBrowserNavigation(request('GET', accept)), false, accept)
  }
  assert.equal(isBrowserNavigation(request('GET')), false, 'no Accept header')
})

test('only GET navigates: POST, HEAD and the rest never get a login redirect', () => {
  for (const method of ['POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    assert.equal(isBrowserNavigation(request(method, 'text/html')), false, method)
  }
})

test('the first matching media range decides its q-value', () => {
  assert.equal(isBrowserNavigation(request('GET', 'text/html;q=0.1, application/json;q=0.2, text/html;q=1')), false)
  assert.equal(isBrowserNavigation(request('GET', 'text/html;level=1;q=0.8, application/json;q=0.8')), true)
})
