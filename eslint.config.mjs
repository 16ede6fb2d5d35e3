// ESLint (flat config) with typescript-eslint's recommended rules over the
// TypeScript sources and tests, and the plain recommended rules over the scripts.
// Layout is checked (and fixed with --fix) by @stylistic's rules below: the project's
// formatter for TypeScript and JavaScript.
// `npm run lint` runs it with clang-format's check of native/ (scripts/lint.js).
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'build-*/**', 'prebuilds/**', 'node_modules/**', '.cache/**', 'coverage/**', 'examples/.dispose-*.js', 'lib/vulkan/spirv-grammar.ts'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/indent': ['error', 2, { SwitchCase: 1, ignoredNodes: ['TemplateLiteral *', 'ConditionalExpression *'] }],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/max-len': ['error', { code: 160, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreComments: true }],
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/eol-last': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', { max: 1, maxEOF: 0 }],
      '@stylistic/space-before-blocks': 'error',
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/comma-spacing': 'error',
      '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
      '@stylistic/arrow-spacing': 'error',
      '@stylistic/no-tabs': 'error',
    },
  },
  {
    files: ['lib/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      // Native handles and JSON from child processes are typed where they are read.
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // require() is how the addon and dist/ are loaded in a few deliberate places.
      '@typescript-eslint/no-require-imports': 'off',
      'eqeqeq': ['error', 'always'],
      // Control characters in patterns are the point where text is made printable.
      'no-control-regex': 'off',
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },
  {
    files: ['scripts/**/*.js', 'bench/**/*.js', 'shaders/**/*.js', 'examples/**/*.js', 'test/**/*.js', '*.js'],
    extends: [js.configs.recommended],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly', __filename: 'readonly',
        Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly',
        clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', globalThis: 'readonly', gc: 'readonly',
        performance: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly', exports: 'writable',
      },
    },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }], 'no-control-regex': 'off' },
  },
);
