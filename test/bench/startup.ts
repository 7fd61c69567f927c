import { readFile, stat, mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { readZip } from '../helpers/unzip.js';
import { interleaved, timeNode } from './processes.js';
import { median } from './calls.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_BIN = join(ROOT, 'bin/scalr-serverless.js');
export const ZIP_PATH = join(ROOT, 'dist/lambda.zip');
/** Packages `--help` must not load: they are what makes a command start slowly. */
const HEAVY_PACKAGES = [/^@aws-sdk\//, /^@smithy\//, /^ora$/, /^undici$/];

/** CLI start-up against bare node, and the packages `--help` loads. */
export interface StartupResult {
  helpMs: number;
  bareNodeMs: number;
  runs: number;
  /** Bare package names reached from dist/cli.js through static imports only (what any command loads). */
  staticPackages: string[];
  heavyStaticPackages: string[];
}

/**
 * Follows the static `import ... from "x"` / `import "x"` statements from dist/cli.js through its
 * chunks; dynamic `import()` calls are left out, since `--help` never runs a command's action.
 */
export async function staticPackagesOf(entry: string): Promise<string[]> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    const pattern = /(?:^|[;\n}])\s*(?:import|export)\s*(?:[\w*{}\s,$]+\s*from\s*)?["']([^"']+)["']/g;
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1];
      if (specifier.startsWith('.')) await visit(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier.split('/')[0])) packages.add(specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
    }
  };
  await visit(entry);
  return [...packages].sort();
}

/** `node bin/scalr-serverless.js --help` against `node -e 0`: medians of `runs` interleaved runs each. */
export async function measureStartup(runs: number): Promise<StartupResult> {
  const results = await interleaved({ help: () => timeNode([CLI_BIN, '--help']), bare: () => timeNode(['-e', '0']) }, runs);
  const staticPackages = await staticPackagesOf(join(ROOT, 'dist/cli.js'));
  return {
    helpMs: median(results.help.map((r) => r.wallMs)),
    bareNodeMs: median(results.bare.map((r) => r.wallMs)),
    runs,
    staticPackages,
    heavyStaticPackages: staticPackages.filter((name) => HEAVY_PACKAGES.some((pattern) => pattern.test(name))),
  };
}

/** The Lambda package's size and the handler module's cold load time. */
export interface PackageResult {
  zipBytes: number;
  unpackedBytes: number;
  /** Median wall time of a fresh node importing index.mjs, minus the median of the same node importing nothing. */
  coldLoadMs: number;
  /** Median time of the import() itself, measured inside those processes: a cross-check. */
  inProcessLoadMs: number;
  runs: number;
  dir: string;
}

/** Unpacks dist/lambda.zip as Lambda would and times a fresh node process importing its entry. */
export async function measurePackage(runs: number): Promise<PackageResult> {
  const zip = await readFile(ZIP_PATH);
  const dir = await mkdtemp(join(tmpdir(), 'scalr-serverless-bench-lambda-'));
  let unpackedBytes = 0;
  for (const entry of readZip(zip)) {
    await mkdir(dirname(join(dir, entry.name)), { recursive: true });
    await writeFile(join(dir, entry.name), entry.data);
    unpackedBytes += entry.data.length;
  }
  const entry = join(dir, 'index.mjs');
  // The same flags with and without the import, so the difference is the module's load alone.
  const env = { AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const load = `const t = performance.now(); await import(${JSON.stringify(`file://${entry}`)}); console.log(performance.now() - t);`;
  const results = await interleaved(
    {
      load: () => timeNode(['--input-type=module', '-e', load], env),
      bare: () => timeNode(['--input-type=module', '-e', '0'], env),
    },
    runs,
  );
  return {
    zipBytes: (await stat(ZIP_PATH)).size,
    unpackedBytes,
    coldLoadMs: median(results.load.map((r) => r.wallMs)) - median(results.bare.map((r) => r.wallMs)),
    inProcessLoadMs: median(results.load.map((r) => Number(r.stdout.trim()))),
    runs,
    dir,
  };
}
