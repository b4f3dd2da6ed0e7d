/**
 * Module-graph rules checked by `npm run lint` (dependency-cruiser). ESLint's no-restricted-imports covers
 * which layer may import which package (eslint.config.js); this covers what needs the whole graph.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import cycle makes load order matter and hides which module owns what: move the shared part ' +
        'into its own file that both sides import. Type-only imports count too.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-db-from-transport',
      severity: 'error',
      comment: 'ipc/ and server/ reach storage through services/, never db/ directly.',
      from: { path: '^src/main/(ipc|server)/' },
      to: { path: '^src/main/db/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|out)/' },
    // Type-only imports are part of the graph: a cycle through types is still two modules that need each other.
    tsPreCompilationDeps: true,
    // The web config knows the renderer's @shared and @renderer aliases; node files need no aliases.
    tsConfig: { fileName: 'tsconfig.web.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.vue', '.js', '.mjs', '.cjs', '.json'],
    },
  },
}
