import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'

// The tarball as `npm pack` (and `npm publish`) makes it from a clean checkout: a copy of the tree git knows about,
// without dist/, so `prepack` has to build it. The tarball is then installed where a user's app would have it and
// imported the ways users import it. Its own dependencies resolve from the repository's node_modules further up
// the tree. Packing happens in the copy, never in the repository itself, so the repository's dist/ (which other
// test files import while this one runs) is never rewritten under them.
const run = promisify(execFile)
// Tests run from the repository root (npm test, borp).
const root = `${process.cwd()}/`
const clean = `${root}build/package-clean`
const consumer = `${root}build/package-test`
const installed = `${consumer}/node_modules/fastify-cognito`
let tarball = ''
let distBeforePack = true
let libSources: string[] = []

before(async () => {
  assert.equal(JSON.parse(await readFile(`${root}package.json`, 'utf8')).name, 'fastify-cognito', 'run from the repository root')
  await rm(clean, { recursive: true, force: true })
  await rm(consumer, { recursive: true, force: true })
  await mkdir(installed, { recursive: true })
  // A package.json of its own: without it the nearest one is the repository's, named fastify-cognito too, and Node
  // and tsc resolve 'fastify-cognito' to the repository's dist/ by self-reference instead of the installed tarball.
  await writeFile(`${consumer}/package.json`, JSON.stringify({ name: 'package-test-consumer', private: true }))
  // Tracked files plus new ones not ignored, as they are in the working tree (a clone of this commit would have the
  // same); files deleted but not yet committed are left out.
  const { stdout: listed } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root })
  const files = [...new Set(listed.split('\0').filter(Boolean))].filter((file) => existsSync(`${root}${file}`))
  for (const file of files) await cp(`${root}${file}`, `${clean}/${file}`)
  await symlink(`${root}node_modules`, `${clean}/node_modules`, 'dir')
  distBeforePack = existsSync(`${clean}/dist`)
  // Declaration files (lib/session/sodium-native.d.ts) only type a dependency: tsc emits nothing for them.
  libSources = files.filter((file) => file.startsWith('lib/') && file.endsWith('.ts') && !file.endsWith('.d.ts'))
  // prepack's own output (the build) goes to stderr with --json; stdout is the JSON alone.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', consumer], { cwd: clean })
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }]
  tarball = `${consumer}/${filename}`
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'])
})

// The copy holds test/types too: leaving it would hand tstyche a second copy of the type tests on the next run.
after(() => rm(clean, { recursive: true, force: true }))

test('the tarball ships dist, README and CHANGELOG, and no sources or tests', async () => {
  const { stdout } = await run('tar', ['-tzf', tarball])
  const files = stdout.split('\n').filter(Boolean)
  assert.ok(files.includes('package/dist/index.js'))
  assert.ok(files.includes('package/dist/index.d.ts'))
  assert.ok(files.includes('package/dist/testing/index.js'))
  assert.ok(files.includes('package/dist/redis/index.js'))
  assert.ok(files.includes('package/dist/redis/index.d.ts'))
  assert.ok(files.includes('package/README.md'))
  assert.ok(files.includes('package/CHANGELOG.md'))
  assert.equal(files.some((file) => file.startsWith('package/lib/') || file.startsWith('package/test/')), false)
})

test('packed from a clean tree without dist/: prepack builds every module of lib/ into the tarball', async () => {
  assert.equal(distBeforePack, false, 'the clean copy must start without dist/')
  const { stdout } = await run('tar', ['-tzf', tarball])
  const files = new Set(stdout.split('\n').filter(Boolean))
  assert.ok(files.has('package/dist/index.js'))
  assert.ok(files.has('package/dist/testing/index.js'))
  assert.ok(libSources.length > 0)
  const missing = libSources
    .flatMap((source) => [source.replace(/^lib\//, 'package/dist/').replace(/\.ts$/, '.js'), source.replace(/^lib\//, 'package/dist/').replace(/\.ts$/, '.d.ts')])
    .filter((file) => !files.has(file))
  assert.deepEqual(missing, [])
})

test('the Redis store loads no Redis client of its own: no built module imports node-redis (an optional peer)', async () => {
  const { stdout } = await run('tar', ['-xzOf', tarball, '--wildcards', 'package/dist/*.js'])
  assert.ok(stdout.includes('function redisStore'))
  assert.doesNotMatch(stdout, /from ['"](redis|@redis\/[^'"]+|ioredis)['"]|require\(['"](redis|ioredis)/)
  await writeFile(`${consumer}/redis.mjs`, `
    import { redisStore } from 'fastify-cognito/redis'
    let refused = false
    try { redisStore({ client: {} }) } catch (error) { refused = error instanceof TypeError }
    console.log(JSON.stringify({ type: typeof redisStore, refused }))
  `)
  const { stdout: out } = await run(process.execPath, ['redis.mjs'], { cwd: consumer })
  assert.deepEqual(JSON.parse(out), { type: 'function', refused: true })
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
