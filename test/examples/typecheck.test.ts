import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { test } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)

// The README's single-file examples and the demo, compiled as a user's project would: `fastify-cognito` resolves
// by name to dist/ (npm test builds first), with the repository's strict compiler options.
test('every example type-checks against the built package', { timeout: 120_000 }, async () => {
  const files = await readdir('examples')
  for (const example of ['public-client.ts', 'confidential-client.ts', 'groups-and-scopes.ts', 'bearer-api.ts', 'two-services.ts', 'demo']) {
    assert.ok(files.includes(example), `examples/${example} exists`)
  }
  try {
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'examples/tsconfig.json'])
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string, stderr?: string }
    assert.fail(`tsc -p examples/tsconfig.json failed:\n${stdout ?? ''}${stderr ?? ''}`)
  }
})
