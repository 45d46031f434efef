// Lint: ESLint's and typescript-eslint's recommended rules, on the library, its tests, bench and
// scripts. `npm run lint`; .ci/run runs it before the tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'api-docs/', 'node_modules/', '.pglite/', 'bench/.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable',
        __dirname: 'readonly', __filename: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        globalThis: 'readonly', global: 'readonly', URL: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly',
        performance: 'readonly', WeakRef: 'readonly', FinalizationRegistry: 'readonly', gc: 'readonly',
      },
    },
    rules: {
      // Senders are any class or function (Django's sender is any object): `Function` is the
      // honest type for them, and the receiver types infer through it.
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // `{}` is the payload of a signal that sends no extra fields.
      '@typescript-eslint/no-empty-object-type': ['error', { allowObjectTypes: 'always', allowInterfaces: 'always' }],
      // Generic constraints over Signal<P> and receiver signatures need `any` (a payload type is
      // contravariant in the receiver, so `Signal<unknown>` would not accept `Signal<User>`);
      // strict tsc and the type tests in test/types check what users write.
      '@typescript-eslint/no-explicit-any': 'off',
      // Unused arguments named _x are intentional (positional receiver signatures).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.cjs', '**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
