import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { remainingStackResources } from '../helpers/inspect-stack.js';

const STACK = 'input';
const PACKAGE_VERSION: string = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version;

/**
 * Bad input as a new user types it: each case must stop with exit code 2 and a message saying what is
 * valid, before any AWS call. Every run goes through the fault proxy, so "no AWS call" is checked on
 * the wire, against a stack that really exists (so a mistake would have had something to change).
 */
describe('input is checked before any AWS call', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let cwd: string;
  let deployed: string[];
  const env = () => ({ ...moto.env, AWS_ENDPOINT_URL: proxy.url });
  const cli = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
    runCli(args.includes('--stack') ? args : [...args, '--stack', STACK], { cwd: options.cwd ?? cwd, env: options.env ?? env() });

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy({ target: moto.endpoint });
    cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-input-'));
    const up = await runCli(['up', '--quiet', '--stack', STACK], { cwd, env: moto.env });
    expect(up.code, up.stderr).toBe(0);
    deployed = await remainingStackResources(moto.endpoint, STACK);
    expect(deployed.length).toBeGreaterThan(10);
  });
  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
  });

  const cases: { name: string; args: string[]; says: RegExp[] }[] = [
    { name: '--cpu 333', args: ['up', '--cpu', '333'], says: [/--cpu 333 is not a Fargate task size/, /256, 512, 1024, 2048, 4096, 8192, 16384/] },
    {
      name: '--cpu 1024 --memory 512',
      args: ['up', '--cpu', '1024', '--memory', '512'],
      says: [/--memory 512 is not valid with --cpu 1024/, /2048, 3072, 4096, 5120, 6144, 7168 or 8192/],
    },
    { name: '--lambda-timeout 0', args: ['up', '--lambda-timeout', '0'], says: [/--lambda-timeout 0/, /1 to 900 seconds/] },
    { name: '--lambda-timeout 901', args: ['plan', '--lambda-timeout', '901'], says: [/--lambda-timeout 901/, /1 to 900 seconds/] },
    { name: '--lambda-timeout abc', args: ['up', '--lambda-timeout', 'abc'], says: [/--lambda-timeout must be a whole number, got "abc"/] },
    { name: '--region moon-1', args: ['up', '--region', 'moon-1'], says: [/invalid region "moon-1"/, /us-east-1/] },
    { name: "--image 'Bad Image'", args: ['up', '--image', 'Bad Image'], says: [/invalid --image "Bad Image"/, /scalr\/agent:latest/] },
    { name: '--stack Bad_Name', args: ['up', '--stack', 'Bad_Name'], says: [/invalid --stack "Bad_Name"/, /lowercase letters, digits and single hyphens/] },
    { name: 'a 40-character stack', args: ['status', '--stack', 'a'.repeat(40)], says: [/invalid --stack/, /1 to 24/] },
    {
      name: '--allowed-scalr-host with a scheme and path',
      args: ['up', '--allowed-scalr-host', 'https://acme.scalr.io/x'],
      says: [/invalid --allowed-scalr-host "https:\/\/acme.scalr.io\/x"/, /acme\.scalr\.io/, /no scheme, no path/],
    },
    { name: '--task-policy-arn nope', args: ['up', '--task-policy-arn', 'nope'], says: [/invalid --task-policy-arn "nope"/, /arn:aws:iam::aws:policy\/ReadOnlyAccess/] },
    { name: 'an unknown flag', args: ['up', '--cpus', '2048'], says: [/unknown option '--cpus'/, /--help/] },
    { name: '--endpoint-url notaurl', args: ['doctor', '--endpoint-url', 'notaurl'], says: [/invalid --endpoint-url "notaurl"/, /http:\/\/localhost:4566/] },
    { name: 'logs --since forever', args: ['logs', '--since', 'forever'], says: [/invalid --since "forever"/, /30m, 2h or 1d/] },
  ];

  for (const { name, args, says } of cases) {
    it(`${name}: exit 2, says what is valid, no AWS call`, async () => {
      proxy.reset();
      const run = await cli(args);
      expect(run.code, run.stderr).toBe(2);
      for (const pattern of says) expect(run.stderr).toMatch(pattern);
      expect(run.stdout).toBe('');
      expect(proxy.calls()).toEqual([]);
    });
  }

  it('down off a terminal without --yes refuses, says to add --yes, and deletes nothing', async () => {
    proxy.reset();
    const run = await cli(['down']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/needs consent/);
    expect(run.stderr).toMatch(/--yes/);
    expect(proxy.calls()).toEqual([]);
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual(deployed);
  });

  it('missing credentials: a clear error naming what to set, non-zero exit, no write', async () => {
    // Given no AWS_* credentials, no instance metadata to fall back on, and an empty home (no ~/.aws).
    const home = await mkdtemp(join(tmpdir(), 'scalr-serverless-home-'));
    const bare = { AWS_ENDPOINT_URL: proxy.url, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', HOME: home, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    for (const args of [['up'], ['plan'], ['status'], ['down', '--yes']]) {
      proxy.reset();
      const run = await cli(args, { env: bare });
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).not.toBe(0);
      expect(run.stderr).toMatch(/no usable AWS credentials/);
      expect(run.stderr).toMatch(/AWS_PROFILE/);
      expect(run.stderr).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
      expect(run.stderr).not.toMatch(/internal error|    at /);
      expect(proxy.calls().filter((call) => call.write)).toEqual([]);
    }
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual(deployed);
  });

  it('a corrupt state file: every command names the file, leaves it untouched, calls nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scalr-serverless-corrupt-'));
    const statePath = join(dir, '.scalr-serverless', `${STACK}.json`);
    await mkdir(join(dir, '.scalr-serverless'));
    const corrupt = '{"tool": "scalr-serverless", "resources": {';
    await writeFile(statePath, corrupt, { mode: 0o600 });
    for (const args of [['up'], ['plan'], ['status'], ['down', '--yes'], ['doctor'], ['logs']]) {
      proxy.reset();
      const run: CliRun = await cli(args, { cwd: dir });
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(1);
      expect(run.stderr).toContain(statePath);
      expect(run.stderr).toMatch(/not valid JSON/);
      expect(run.stderr).toMatch(/left untouched/);
      expect(proxy.calls()).toEqual([]);
    }
    expect(await readFile(statePath, 'utf8')).toBe(corrupt);
    expect((await readdir(join(dir, '.scalr-serverless'))).sort()).toEqual([`${STACK}.json`]);
  });

  it('--help prints the usage of every command with exit 0; --version prints the package version', async () => {
    const commands = [['up'], ['plan'], ['down'], ['status'], ['logs'], ['doctor'], ['iam-policy'], ['pool', 'attach'], ['pool', 'detach'], ['pool', 'list']];
    const runs = await Promise.all(commands.map((command) => runCli([...command, '--help'], { cwd })));
    runs.forEach((run, index) => {
      const command = commands[index].join(' ');
      expect(run.code, command).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: scalr-serverless ${command}`));
      expect(run.stdout).toMatch(/--json/);
      expect(run.stderr).toBe('');
    });
    const top = await runCli(['--help'], { cwd });
    expect(top.code).toBe(0);
    for (const [command] of commands) expect(top.stdout).toContain(command);
    const version = await runCli(['--version'], { cwd });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(PACKAGE_VERSION);
  });
});
