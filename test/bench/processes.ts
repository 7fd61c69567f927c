import { spawn } from 'node:child_process';

/** How one child process ended and how long it took from spawn to exit. */
export interface Timed {
  wallMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ...args` to completion and times it from spawn to exit (the user's view of start-up). */
export function timeNode(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ wallMs: performance.now() - started, code, stdout, stderr }));
  });
}

/**
 * Runs each command `runs` times, interleaved (a, b, a, b, ...) so that machine noise hits them alike,
 * after one unmeasured warm-up each (file cache). Fails when any run exits non-zero.
 */
export async function interleaved(commands: Record<string, () => Promise<Timed>>, runs: number): Promise<Record<string, Timed[]>> {
  const results: Record<string, Timed[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (const run of Object.values(commands)) await run();
  for (let i = 0; i < runs; i++) {
    for (const [name, run] of Object.entries(commands)) {
      const timed = await run();
      if (timed.code !== 0) throw new Error(`${name} exited with ${timed.code}: ${timed.stderr.slice(0, 2000)}`);
      results[name].push(timed);
    }
  }
  return results;
}
