#!/usr/bin/env node
// The AWS SDK warns on every Node 20 start that releases after January 2027 need Node 22; our
// dependency tree is pinned to releases that accept Node 20, so the warning is only noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import('../dist/cli.js').then((cli) => cli.main(process.argv));
