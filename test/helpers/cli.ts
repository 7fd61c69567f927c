import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI's entry, exactly what `npx scalr-serverless` runs. */
export const CLI_BIN = fileURLToPath(new URL('../../bin/scalr-serverless.js', import.meta.url));

/** What one CLI run printed and how it ended. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
  /** stdout parsed as the one JSON document `--json` promises (throws when it is not one). */
  json<T = any>(): T;
}

/** Options for one run: environment (added to a clean one), working directory, and a hook on spawn. */
export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  onSpawn?: (pid: number) => void;
  input?: string;
}

/**
 * Runs `node bin/scalr-serverless.js ...args` as a child process, as a user would, with a minimal
 * environment (no inherited AWS settings, so a test only reaches what it names).
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CI: 'true' };
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    if (child.pid) options.onSpawn?.(child.pid);
    child.stdin.end(options.input ?? '');
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout,
        stderr,
        pid: child.pid ?? -1,
        json() {
          try {
            return JSON.parse(stdout);
          } catch (error) {
            throw new Error(`stdout is not one JSON document (${(error as Error).message}):\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      }),
    );
  });
}
