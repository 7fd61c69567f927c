import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { CLI_BIN } from '../helpers/cli.js';
import { remainingStackResources } from '../helpers/inspect-stack.js';

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as a user at a terminal does. */
function onTerminal(shellCommand: string, env: Record<string, string>, cwd: string, input = '', timeoutMs = 60_000) {
  return new Promise<{ code: number | null; output: string; timedOut: boolean }>((resolve) => {
    const { CI: _ci, ...withoutCi } = { ...process.env, ...env };
    const child = spawn('script', ['-qec', shellCommand, '/dev/null'], { cwd, env: withoutCi, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (output = (output + chunk).slice(-200_000)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    // The answer goes in once the prompt had time to appear.
    if (input) setTimeout(() => child.stdin.write(input), 2500);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

describe('on a terminal', () => {
  let moto: MotoServer;
  let cwd: string;
  const cli = `${process.execPath} ${CLI_BIN}`;

  beforeAll(async () => {
    moto = await startMoto();
    cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-tty-'));
  });
  afterAll(async () => moto?.stop());

  it('a terminal that reports 0 columns gets plain lines, and up finishes', async () => {
    const run = await onTerminal(`stty cols 0; ${cli} up --stack ttyzero`, moto.env, cwd);
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(0);
    expect(run.output).toContain('VPC scalr-serverless-ttyzero-vpc: created');
    expect(run.output).toContain('webhook_url = https://');
  });

  it('a normal terminal gets a spinner and the finished steps above it', async () => {
    const run = await onTerminal(`stty cols 120; ${cli} up --stack ttyspin`, moto.env, cwd);
    expect(run.code).toBe(0);
    expect(run.output).toContain('\u001b[?25l'); // ora hides the cursor while it spins
    expect(run.output).toMatch(/Lambda Function scalr-serverless-ttyspin-webhook: created \(\d/);
  });

  it('down asks first: "n" cancels and deletes nothing, "y" deletes the stack', async () => {
    const no = await onTerminal(`stty cols 120; ${cli} down --stack ttyspin`, moto.env, cwd, 'n\r');
    expect(no.output).toContain('Delete every resource of stack "ttyspin"');
    expect(no.code).toBe(2);
    expect(await remainingStackResources(moto.endpoint, 'ttyspin')).not.toEqual([]);

    const yes = await onTerminal(`stty cols 120; ${cli} down --stack ttyspin`, moto.env, cwd, 'y\r');
    expect(yes.code, yes.output.slice(-2000)).toBe(0);
    expect(await remainingStackResources(moto.endpoint, 'ttyspin')).toEqual([]);
  });
});
