// Lint: typescript-eslint's recommended rules plus the layer rules of
// STYLE.md — shared/ is pure, the renderer is DOM-only and takes only types
// from the server, server parts import each other through their index.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const NODE_BUILTINS = [
  'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'url', 'stream', 'util', 'events',
  'worker_threads', 'zlib', 'tls', 'dns', 'readline', 'buffer', 'process', 'module', 'vm', 'assert',
];
const nodeImports = [
  { group: ['node:*'], message: 'This layer must not use Node APIs (see STYLE.md "Layers by runtime").' },
  ...NODE_BUILTINS.map((name) => ({ group: [name, `${name}/*`], message: 'This layer must not use Node APIs.' })),
];
const SERVER_PARTS = 'store|agent|gateway|security|cli|channels|skills|manager|tailscale';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'bench/results.json', '.autoclaw/**', '.tmp/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Plain Node scripts (build, test runner, bench runner, the bin launcher).
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { globals: globals.node, sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['shared/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...nodeImports,
          { group: ['@autoclaw/server*', '@autoclaw/desktop*', 'react', 'react-dom'], message: 'shared/ is the contract: no I/O, no UI, no server code.' },
        ],
      }],
    },
  },
  {
    files: ['desktop/src/renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...nodeImports,
          { regex: '^@autoclaw/server(?!/(router|manager-router)$)', message: 'The renderer takes only `type AppRouter` and `type ManagerRouter` from the server.' },
          { group: ['@autoclaw/server/router', '@autoclaw/server/manager-router'], allowTypeImports: true, message: 'Only `import type` from the server.' },
          { regex: '^(\\.\\./)+(server)/', message: 'The renderer must not import server code.' },
        ],
      }],
    },
  },
  {
    files: ['server/src/**/*.ts'],
    // Test support beside the code (harnesses, kits) may import server/src/testing.
    ignores: ['server/src/**/*.test.ts', 'server/src/testing/**', 'server/src/**/test-*.ts', 'server/src/**/*-harness.ts', 'server/src/**/test-kit.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['react', 'react-dom', '@autoclaw/desktop*'], message: 'server/ is Node: no UI code.' },
          { regex: '(^|/)testing/', message: 'Product code must not import test support (server/src/testing).' },
          {
            regex: `^(\\.\\./)+(${SERVER_PARTS})/(?!(?:[a-z-]+/)*(index|types)$)`,
            message: 'Import another part through its index.ts (one door per part, STYLE.md).',
          },
        ],
      }],
    },
  },
);
