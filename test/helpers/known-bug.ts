import type { TestContext } from 'node:test'
import { AssertionError } from 'node:assert'

/**
 * The body of a test marked `{ todo: 'lib bug: …' }` that asserts the correct behaviour of a known lib bug.
 *
 * node:test does not fail a run for a failing todo test, but borp does (it sets the exit code on every `test:fail`
 * event, todo or not), so `npm test` would go red. This runs `body` and, when it fails with an AssertionError
 * whose message matches `symptom` (the bug showing itself exactly as described), reports that failure as a
 * diagnostic of the todo test instead of throwing. Any other failure (another assertion, a 500, an exception) still
 * fails the test. Once the bug is fixed the body passes and a diagnostic says the todo can go.
 */
export async function expectKnownBug (t: TestContext, symptom: RegExp, body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (error) {
    if (error instanceof AssertionError && symptom.test(error.message)) {
      t.diagnostic(`known lib bug, still present: ${error.message.split('\n').filter((line) => line.trim() !== '').join(' ')}`)
      return
    }
    throw error
  }
  t.diagnostic('the known bug no longer shows: remove the todo')
}
