import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

const r = (p: string) => fileURLToPath(new URL(p, import.meta.url))

/**
 * The slow suites, each its own lane (`npm run test:<lane>`, or `vitest run --project <lane>`). `npm test`
 * runs every lane; `npm run test:unit` runs only the fast pure ones (the `unit` and `renderer` projects).
 */
const SLOW_LANES = {
  /** Generated spaces checked against invariants, hundreds of samples per family. */
  property: ['test/unit/engine/space-property-*.test.ts'],
  /** wasm kernels with their tensors placed above 2 GiB of wasm heap. */
  'high-heap': ['test/unit/engine/compute-kernels-high-heap.test.ts'],
  /** Kills a CLI search mid-run and resumes it. */
  'crash-resume': ['test/integration/main/crash-resume.test.ts'],
  /** Trials through Redis and BullMQ with worker processes (skipped without redis-server). */
  queue: ['test/integration/main/queue-*.test.ts'],
  /** Malformed requests and files thrown at every method of the contract. */
  fuzz: ['test/integration/main/fuzz.test.ts'],
} as const

const slow = Object.values(SLOW_LANES).flat()

/**
 * The kernel tests again with relaxed SIMD on (Node 20 has it behind a flag; Electron's V8 by default), so the
 * fused multiply-add build is checked against the cpu backend too.
 */
const RELAXED_SIMD = ['test/unit/engine/compute-simd.test.ts']

/** Node tests that train, spawn processes or run whole searches: the integration lane. */
const INTEGRATION = [
  'test/integration/**/*.test.ts',
  // whole searches: every strategy on a toy space, and a search repeated in a fresh process
  'test/unit/engine/strategy-sanity.test.ts',
  'test/unit/engine/strategy-reproducible.test.ts',
]

const nodeLane = (
  name: string,
  include: readonly string[],
  exclude: readonly string[] = [],
  isolate = true,
  extra: { env?: Record<string, string>; execArgv?: string[] } = {},
) => ({
  test: {
    name,
    environment: 'node' as const,
    include: [...include],
    exclude: [...exclude],
    pool: 'forks' as const,
    isolate,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    ...extra,
  },
})

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      // The fast lanes reuse one module graph per worker (isolate: false): loading TensorFlow.js or happy-dom
      // once instead of once per file is most of their time. Their tests set up what they use themselves.
      // The unit lane checks the plain SIMD build of our wasm kernels (NAS_RELAXED_SIMD=off, whatever the
      // runtime supports); the relaxed-simd lane runs the same kernel tests on the relaxed build.
      nodeLane('unit', ['test/unit/{shared,engine,main}/**/*.test.ts'], [...slow, ...INTEGRATION], false, {
        env: { NAS_RELAXED_SIMD: 'off' },
      }),
      nodeLane('relaxed-simd', RELAXED_SIMD, [], true, { execArgv: ['--experimental-wasm-relaxed-simd'] }),
      {
        plugins: [vue()],
        resolve: { alias: { '@shared': r('./src/shared'), '@renderer': r('./src/renderer/src') } },
        test: {
          name: 'renderer',
          environment: 'happy-dom',
          include: ['test/unit/renderer/**/*.test.ts'],
          isolate: false,
        },
      },
      nodeLane('integration', INTEGRATION, slow),
      ...Object.entries(SLOW_LANES).map(([name, include]) => nodeLane(name, include)),
    ],
  },
})
