// Lint keeps the architecture's arrows honest (docs: ../shared/STYLE.md, "A layout that shows the architecture"):
// no import cycles, and each layer imports only what it may. Formatting is Prettier's job, not ESLint's: no style rules.
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import noTypeCycle from './eslint-rules/no-type-cycle.js';

/** Libraries the domain must not know: transports, GraphQL, Redis, tokens. */
const FRAMEWORKS = ['graphql', 'graphql-yoga', 'graphql-ws', 'ws', 'ioredis', 'jose'];
const frameworkPatterns = [...FRAMEWORKS.flatMap((name) => [name, `${name}/*`]), '@graphql-yoga/*'];

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', '**/*.generated.ts', 'test/clients/gql/**', 'src/http/demo/**'],
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: 'module' },
    plugins: { 'import-x': importX, '@typescript-eslint': tseslint.plugin, local: { rules: { 'no-type-cycle': noTypeCycle } } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })] },
    rules: {
      'import-x/no-cycle': 'error',
      'local/no-type-cycle': 'error',
      'import-x/no-self-import': 'error',
    },
  },
  {
    // The domain speaks its own types; its ports are implemented by adapters, which may import the frameworks.
    files: ['src/chat/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: frameworkPatterns, message: 'src/chat is the domain: no framework (STYLE.md, lesson 3).' }] },
      ],
    },
  },
  {
    files: ['src/observability/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/graphql/*', '**/graphql'], message: 'src/observability does not import src/graphql.' }] },
      ],
    },
  },
  {
    // What apps import (`exports["./client"]`): graphql-ws types only, nothing of the server.
    files: ['src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*', '!../client/*'], message: 'src/client imports no server code.' }] },
      ],
    },
  },
  {
    // The server is typed end to end (STYLE.md: "no `any` in resolvers"); tests may read raw wire payloads as any.
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    // Resolvers and the services they call: a function that returns a promise must be async, so that a throw becomes
    // a rejection. A synchronous throw from one item of a list made graphql's executor abandon an earlier item's
    // promise, whose rejection then went unhandled (found by the fuzzer: `rooms { messages(before: $id) }`). The
    // delivery path is left out on purpose: its promise-returning functions are hot and throw nothing.
    files: ['src/graphql/resolvers/**/*.ts', 'src/chat/*.ts', 'src/documents/*.ts'],
    ignores: ['src/chat/event-queue.ts', 'src/chat/room-hubs.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/promise-function-async': ['error', { checkArrowFunctions: true }] },
  },
);
