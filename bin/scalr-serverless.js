#!/usr/bin/env node
// The AWS SDK warns on every Node 20 start that releases after January 2027 need Node 22; the SDK is
// bundled into dist/ at a version that runs on Node 20, so the warning is only noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import('../dist/cli.js').then(
  (cli) => cli.main(process.argv),
  (error) => {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli.js')) throw error;
    process.stderr.write('error: scalr-serverless is not built in this checkout (dist/cli.js is missing)\nhint: run `npm ci` (it builds) or `npm run build`\n');
    process.exitCode = 1;
  },
);
