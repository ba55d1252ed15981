// The rules that keep the code shape (README "Development"): no explicit `any`, short
// functions, no nested ternaries, and the layering as import boundaries:
//   - only src/kube imports @kubernetes/client-node (others take its types from src/kube/types.ts);
//   - src/runtime imports nothing of the controllers, builders or API;
//   - src/builders and src/api are pure: no client, no runtime, no controllers.
// Formatting is prettier's (npm run format); this file checks the rest (npm run lint).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const clientNode = {
  name: '@kubernetes/client-node',
  message: 'Only src/kube talks to the API server; import types from src/kube/types.ts.',
};
const layer = (group, message) => ({ group, message });

/** no-restricted-imports for one folder: client-node always, plus the folder's own bans. */
const boundaries = (...patterns) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { paths: [clientNode], patterns }],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.cluster/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-nested-ternary': 'error',
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true, IIFEs: true }],
      ...boundaries(),
    },
  },
  {
    files: ['src/kube/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [layer(['**/controllers/**', '**/builders/**'], 'src/kube knows nothing of the controllers.')] },
      ],
    },
  },
  {
    files: ['src/runtime/**/*.ts'],
    rules: boundaries(
      layer(
        ['**/controllers/**', '**/builders/**', '**/api/**'],
        'src/runtime is generic: it imports no controller, builder or API code.',
      ),
    ),
  },
  {
    files: ['src/builders/**/*.ts', 'src/api/**/*.ts'],
    rules: boundaries(
      layer(
        [
          '**/controllers/**',
          '**/runtime/**',
          '**/kube/client*',
          '**/kube/events*',
          '**/kube/sources*',
          '**/kube/lease*',
          '**/operator*',
        ],
        'Builders and schemas are pure: no client, runtime or controller code.',
      ),
    ),
  },
  {
    files: ['src/controllers/**/*.ts'],
    ignores: [
      'src/controllers/**/reconciler.ts',
      'src/controllers/**/watches.ts',
      'src/controllers/common/writes.ts',
      // The disruption budgets' reconcile step: applies and deletes them (the reconciler calls it).
      'src/controllers/computecluster/budgets.ts',
      // The gang's PodGroup: applied and deleted by the reconcile (no cache of PodGroups).
      'src/controllers/computecluster/podgroup.ts',
      // A queued job's or cluster's Kueue Workload: created, deleted and its status written by their reconciles.
      'src/controllers/common/workloads.ts',
      // What those steps share (their context, reporting refusals as events and conditions).
      'src/controllers/computecluster/owned.ts',
    ],
    rules: boundaries(
      layer(
        ['**/kube/client*', '**/kube/events*', '**/kube/sources*', '**/kube/lease*', '**/runtime/**', '**/operator*'],
        'Planners, policies and status are pure: only reconciler.ts, watches.ts, computecluster/budgets.ts and common/writes.ts do I/O or touch the runtime.',
      ),
    ),
  },
  {
    // Tests and scripts talk to the API server directly, read raw JSON and may be long; the
    // boundaries and the ban on `any` are src/'s. chai's `expect(x).to.be.true` is an expression.
    files: ['test/**/*.ts', 'hack/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
