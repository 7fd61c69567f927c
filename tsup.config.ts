import { defineConfig } from 'tsup';
import { buildLambdaZip } from './lambda-src/build/zip-package.js';

export default defineConfig([
  {
    // The CLI: dependencies stay external (they are installed with the package) and the AWS SDK
    // is loaded lazily by the commands that need it, so `--help` starts fast.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    outDir: 'dist',
    clean: false,
    sourcemap: false,
    splitting: true,
  },
  {
    // The webhook handler: bundled, minified and tree-shaken into one file, then zipped
    // reproducibly into dist/lambda.zip, the exact bytes `up` uploads.
    entry: { index: 'lambda-src/index.ts' },
    format: ['esm'],
    outExtension: () => ({ js: '.mjs' }),
    platform: 'node',
    target: 'node22',
    outDir: 'dist/lambda',
    clean: true,
    minify: true,
    treeshake: true,
    noExternal: [/.*/],
    sourcemap: false,
    splitting: false,
    esbuildOptions(options) {
      // Prefer the SDK's ES-module builds: esbuild can tree-shake them, the CommonJS `main`
      // builds it cannot. This alone takes the bundle from ~550 KB to ~320 KB (zip ~100 KB).
      options.mainFields = ['module', 'main'];
      options.legalComments = 'none';
    },
    onSuccess: async () => {
      await buildLambdaZip('dist/lambda', 'dist/lambda.zip');
    },
  },
]);
