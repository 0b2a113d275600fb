import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default ts.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'test-results/', 'resources/models/', '.bench/', 'scratch-tmp/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    // The services must run under plain Node: only src-main/main and the preload may import electron.
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/main/**', 'src-main/preload/**', 'src-main/engine/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Services must not import electron (they run under plain Node).' }],
          patterns: [
            {
              group: ['@tensorflow/*'],
              allowTypeImports: true,
              message: 'Only src-main/engine/ (the engine process) loads TensorFlow.js; the main side uses TF-free tables.',
            },
          ],
        },
      ],
    },
  },
  {
    // The engine process is the one place that loads TensorFlow.js; it never imports electron either.
    files: ['src-main/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'The engine runs as a plain Node utility process.' }] }],
    },
  },
  {
    // Electron's main process and the preload own the window and the catalog: no TensorFlow.js there either.
    files: ['src-main/main/**/*.ts', 'src-main/preload/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@tensorflow/*'], allowTypeImports: true, message: 'Only src-main/engine/ loads TensorFlow.js.' }] },
      ],
    },
  },
);
