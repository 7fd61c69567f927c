import { defineConfig } from 'tsup';
import { buildLambdaZip } from './lambda-src/build/zip-package.js';

export default defineConfig([
  {
    // The CLI. The AWS SDK is bundled (its ES module builds, tree-shaken) into chunks that only the
    // commands calling AWS load, lazily: loading the SDK's CommonJS packages from node_modules cost a
    // second before the first AWS call, and bundling also fixes the SDK version to the one tested on
    // Node 20. The other dependencies stay external. `--help` loads none of the SDK.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    outDir: 'dist',
    // Only the CLI's own chunks: dist/lambda.zip is written by the other build at the same time.
    clean: ['*.js'],
    sourcemap: false,
    splitting: true,
    // Minified, the SDK chunk parses ~10% faster; kept names leave --debug stack traces readable.
    minify: true,
    keepNames: true,
    noExternal: [/^@aws-sdk\//, /^@smithy\//],
    esbuildOptions(options) {
      options.mainFields = ['module', 'main'];
    },
    // Bundled CommonJS pieces of the SDK call require(); give them one in this ES module.
    banner: { js: "import { createRequire as __scalrServerlessRequire } from 'node:module'; const require = __scalrServerlessRequire(import.meta.url);" },
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
