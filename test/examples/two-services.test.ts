import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)

// The README's machine-to-machine example, run as a user would run it (against the built package).
test('examples/two-services.ts: the reports service calls the orders API with one cached machine token', { timeout: 60_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/two-services.ts'], { timeout: 50_000 })
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>
  const expected = { status: 200, body: { caller: 'service reports', orders: [{ id: 1, total: 42 }] } }
  assert.deepEqual(result, { first: expected, second: expected, tokenCalls: 1 })
})
