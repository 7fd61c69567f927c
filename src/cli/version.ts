import { createRequire } from 'node:module';

/** The package version, read from package.json at start-up (one small file, no JSON import assertion). */
export const VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
