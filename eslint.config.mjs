// Lint guards the core: type-aware promise and exhaustiveness rules everywhere, and no I/O,
// framework or crypto imports inside domain/ folders (the decider stays pure).
import tseslint from 'typescript-eslint';

const bannedInDomain = ['@nestjs/*', 'typeorm', 'typeorm/*', 'nats', '@nats-io/*', 'pkcs11js', 'node:crypto', 'crypto', 'pg', '@opentelemetry/*'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.mjs', '.ekm/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/await-thenable': 'error',
      'no-debugger': 'error',
    },
  },
  {
    files: ['**/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: bannedInDomain, message: 'domain/ stays pure: no framework, I/O or crypto imports (STYLE.md)' }] }],
    },
  },
);
