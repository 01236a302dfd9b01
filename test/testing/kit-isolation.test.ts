import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { test } from 'node:test'

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g

/** Every module `entry` loads, following relative imports of the compiled package; bare specifiers are collected. */
async function moduleGraph (entry: string): Promise<{ files: string[], packages: Set<string> }> {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const queue = [entry]
  while (queue.length > 0) {
    const file = queue.pop() as string
    if (seen.has(file)) continue
    seen.add(file)
    for (const [, specifier = ''] of (await readFile(file, 'utf8')).matchAll(IMPORT)) {
      if (specifier.startsWith('.')) queue.push(join(dirname(file), specifier))
      else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0] as string)
    }
  }
  return { files: [...seen].map(file => relative('dist', file)), packages }
}

test('importing fastify-cognito never loads the testing kit or its local IdP', async () => {
  const main = await moduleGraph('dist/index.js')
  assert.ok(main.files.includes('plugin.js'))
  assert.deepEqual(main.files.filter(file => file.startsWith('testing')), [])

  const kit = await moduleGraph('dist/testing/index.js')
  assert.ok(kit.files.includes('testing/local-cognito/server.js'))
  // The kit needs nothing a plugin user does not already have: fastify (peer), @fastify/cookie and jose (dependencies).
  const { dependencies, peerDependencies } = JSON.parse(await readFile('package.json', 'utf8')) as Record<string, Record<string, string>>
  const available = new Set([...Object.keys(dependencies ?? {}), ...Object.keys(peerDependencies ?? {})])
  assert.deepEqual([...kit.packages].filter(name => !name.startsWith('node:') && !available.has(name)), [])
})
