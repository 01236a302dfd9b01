import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'

// The packed tarball, installed where a user's app would have it, imported the ways users import it. Its own
// dependencies resolve from the repository's node_modules further up the tree.
const run = promisify(execFile)
// Tests run from the repository root (npm test, borp).
const root = `${process.cwd()}/`
const consumer = `${root}build/package-test`
const installed = `${consumer}/node_modules/fastify-cognito`

before(async () => {
  assert.equal(JSON.parse(await readFile(`${root}package.json`, 'utf8')).name, 'fastify-cognito', 'run from the repository root')
  await rm(consumer, { recursive: true, force: true })
  await mkdir(installed, { recursive: true })
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', consumer], { cwd: root })
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }]
  await run('tar', ['-xzf', `${consumer}/${filename}`, '-C', installed, '--strip-components=1'])
})

test('the tarball ships dist, README and CHANGELOG, and no sources or tests', async () => {
  const { stdout } = await run('tar', ['-tzf', `${consumer}/${(await run('ls', [consumer])).stdout.split('\n').find((f) => f.endsWith('.tgz'))}`])
  const files = stdout.split('\n').filter(Boolean)
  assert.ok(files.includes('package/dist/index.js'))
  assert.ok(files.includes('package/dist/index.d.ts'))
  assert.ok(files.includes('package/dist/testing/index.js'))
  assert.ok(files.includes('package/README.md'))
  assert.ok(files.includes('package/CHANGELOG.md'))
  assert.equal(files.some((file) => file.startsWith('package/lib/') || file.startsWith('package/test/')), false)
})

test('ESM import: default and named plugin, errors, and the testing kit', async () => {
  await writeFile(`${consumer}/esm.mjs`, `
    import Fastify from 'fastify'
    import fastifyCognito, { fastifyCognito as named, CognitoError, CognitoForbiddenError } from 'fastify-cognito'
    import { startLocalCognito } from 'fastify-cognito/testing'
    const idp = await startLocalCognito()
    const app = Fastify()
    await app.register(fastifyCognito, {
      userPoolId: idp.userPoolId, clientId: idp.clients[0].clientId, domain: idp.domain, issuer: idp.issuer,
      redirectUri: idp.clients[0].callbackUrls[0], sessionSecret: 'x'.repeat(32)
    })
    const login = await app.inject({ url: '/login' })
    await app.close()
    await idp.close()
    console.log(JSON.stringify({
      same: fastifyCognito === named,
      status: login.statusCode,
      inherits: new CognitoForbiddenError('x') instanceof CognitoError
    }))
  `)
  const { stdout } = await run(process.execPath, ['esm.mjs'], { cwd: consumer })
  assert.deepEqual(JSON.parse(stdout), { same: true, status: 302, inherits: true })
})

test('CommonJS require() of the ESM package (require(esm), Node >= 20.19)', async () => {
  await writeFile(`${consumer}/cjs.cjs`, `
    const cognito = require('fastify-cognito')
    console.log(JSON.stringify({ default: typeof cognito.default, named: typeof cognito.fastifyCognito, same: cognito.default === cognito.fastifyCognito, error: typeof cognito.CognitoError }))
  `)
  const { stdout } = await run(process.execPath, ['--no-warnings', 'cjs.cjs'], { cwd: consumer })
  assert.deepEqual(JSON.parse(stdout), { default: 'function', named: 'function', same: true, error: 'function' })
})

test('TypeScript (nodenext) sees the types, the declaration merging and the testing kit', async () => {
  await writeFile(`${consumer}/consumer.mts`, `
    import Fastify from 'fastify'
    import fastifyCognito, { type CognitoUser } from 'fastify-cognito'
    import { startLocalCognito, type LocalCognito } from 'fastify-cognito/testing'
    declare module 'fastify-cognito' {
      interface FastifyCognitoClaims { 'custom:tenant'?: string }
    }
    const app = Fastify()
    const idp: LocalCognito = await startLocalCognito()
    await app.register(fastifyCognito, { userPoolId: idp.userPoolId, clientId: 'c', domain: idp.domain, redirectUri: 'http://localhost/cb', sessionSecret: 'x'.repeat(32) })
    app.get('/me', { preHandler: app.cognito.requireAuth({ groups: ['admin'] }) }, async (request) => {
      const user: CognitoUser | null = request.user
      const tenant: string | undefined = request.tokenPayload?.['custom:tenant']
      return { user, tenant }
    })
  `)
  await writeFile(`${consumer}/tsconfig.json`, JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [`${root}node_modules/@types`] },
    files: ['consumer.mts']
  }))
  await run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json'], { cwd: consumer })
  await writeFile(`${consumer}/wrong.mts`, `
    import Fastify from 'fastify'
    const app = Fastify()
    app.cognito.requireAuth({ groups: 'admin' })
    import 'fastify-cognito'
  `)
  await writeFile(`${consumer}/tsconfig.wrong.json`, JSON.stringify({ extends: './tsconfig.json', files: ['wrong.mts'] }))
  await assert.rejects(run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.wrong.json'], { cwd: consumer }), (error: { stdout?: string }) => {
    assert.match(error.stdout ?? '', /wrong\.mts\(4,\d+\): error TS2322/)
    return true
  })
})
