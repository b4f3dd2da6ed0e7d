// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'
import prettier from 'eslint-config-prettier'
import globals from 'globals'

/** Import boundaries from ARCHITECTURE.md, enforced so that a wrong import fails `npm run lint`. */
const engineBoundary = {
  patterns: [
    { group: ['electron', 'electron/*'], message: 'src/engine runs in plain Node: no electron.' },
    { group: ['better-sqlite3'], message: 'src/engine reaches storage only through ports.ts.' },
    { group: ['**/main/**', '**/main'], message: 'src/engine must not import src/main.' },
    { group: ['**/renderer/**'], message: 'src/engine must not import the renderer.' },
  ],
}
const rendererBoundary = {
  patterns: [
    { group: ['**/main/**', '**/main'], message: 'The renderer reaches main only through renderer/src/api.' },
    { group: ['**/engine/**', '**/engine'], message: 'The renderer must not import the engine.' },
    {
      group: ['electron', 'electron/*', 'better-sqlite3', 'node:*'],
      message: 'No Node or Electron in the renderer.',
    },
  ],
}
const sharedBoundary = {
  patterns: [
    {
      group: ['**/main/**', '**/engine/**', '**/renderer/**', '**/preload/**'],
      message: 'src/shared imports nothing outside itself.',
    },
    {
      group: ['electron', 'better-sqlite3', 'node:*', 'vue', 'pinia'],
      message: 'src/shared imports nothing but zod.',
    },
  ],
}

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'coverage/**', 'resources/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['src/engine/**'], rules: { 'no-restricted-imports': ['error', engineBoundary] } },
  {
    files: ['src/renderer/**', 'test/unit/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': ['error', rendererBoundary] },
  },
  { files: ['src/shared/**'], rules: { 'no-restricted-imports': ['error', sharedBoundary] } },
  prettier,
)
