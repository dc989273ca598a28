import tseslint from 'typescript-eslint';

/**
 * The product's layers (src/), lowest first: an import may only go down or sideways. Each room lists
 * the rooms it may import from; anything else of ours (`../x/…`), and `vscode` where the room must
 * not depend on the editor, fails `npm run lint`.
 *   domain    pure rules and formats: nothing of ours outside domain/, never vscode
 *   data      the backend: domain/
 *   analysis  the analysis process: domain/, data/
 *   platform  VS Code plumbing (connection, settings, log, poller): domain/, data/
 *   runs, scheduler  the use cases: domain/, data/, platform/, analysis/ (never ui/, never the wiring)
 *   ui        what draws: anything above but never app.ts / extension.ts / testingApi.ts
 *   webview   the browser bundle: domain/ only (pure), never vscode
 */
const LAYERS = {
  domain: { may: [], vscode: false },
  data: { may: ['domain'], vscode: false },
  analysis: { may: ['domain', 'data'], vscode: false },
  platform: { may: ['domain', 'data'], vscode: true },
  runs: { may: ['domain', 'data', 'platform', 'analysis'], vscode: true },
  scheduler: { may: ['domain', 'data', 'platform', 'analysis'], vscode: true },
  webview: { may: ['domain'], vscode: false },
};

function layerRule(room, { may, vscode }) {
  const allowed = may.map((r) => `${r}/`).join('|');
  const patterns = [
    {
      // From src/<room>/x.ts, `../<other>/…` or `../app` leaves the room; only the listed rooms may be reached.
      regex: allowed ? `^\\.\\./(?!(?:${allowed}))` : '^\\.\\./',
      message: `src/${room}/ may import only from ${may.length ? may.map((r) => `src/${r}/`).join(', ') : 'itself'} (layers: eslint.config.mjs).`,
    },
  ];
  if (!vscode)
    patterns.push({
      regex: '^vscode$',
      message: `src/${room}/ must not depend on vscode (layers: eslint.config.mjs).`,
    });
  return { files: [`src/${room}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-test/**',
      'out/**',
      'node_modules/**',
      '.vscode-test/**',
      '.tmp/**',
      'test-results/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env'] AssignmentExpression",
          message: 'Do not mutate process.env.',
        },
      ],
    },
  },
  ...Object.entries(LAYERS).map(([room, layer]) => layerRule(room, layer)),
  {
    files: ['src/ui/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?:\\.\\./)+(?:app|extension|testingApi)$',
              message: 'src/ui/ draws; it never imports the wiring (app.ts, extension.ts, testingApi.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    // Functions stay short enough to read in one screen.
    files: ['src/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false }] },
  },
  {
    // Test tooling: the tests, the scripts and the kit they share (devkit/).
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'devkit/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Test doubles: async fakes without await and rejections with an AbortSignal's reason are the point.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'warn',
      '@typescript-eslint/no-base-to-string': 'warn',
      // Test and bench output interpolates whatever came back, on purpose.
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  // devkit boundaries: test/ and scripts/ share the kit (devkit/) and never import each other; the kit
  // imports neither (`tsc -p devkit --noEmit` proves it too).
  {
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'devkit/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/test/**', '**/scripts/**'],
              message:
                'test/ and scripts/ never import each other, and devkit/ imports neither: share code through devkit/.',
            },
          ],
        },
      ],
    },
  },
);
