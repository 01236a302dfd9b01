import neostandard from 'neostandard'

export default neostandard({
  ts: true,
  ignores: ['dist/**', 'build/**', 'coverage/**', 'test-output/**', 'node_modules/**']
})
