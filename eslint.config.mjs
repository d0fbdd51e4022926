// Lint: the recommended JavaScript and TypeScript rules, plus the two that guard our privacy rules in code review
// (no console in lib/ except through the logger, no debugger). Type-aware rules are left to `tsc --strict`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.media-worker/**', 'coverage/**', 'resources/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-control-regex': 'off',
      'no-debugger': 'error',
    },
  },
  {
    files: ['lib/**/*.ts', 'nodes/**/*.ts', 'media-server/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['lib/services.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['scripts/**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['web/**/*.ts'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', navigator: 'readonly' } },
  },
);
