import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { remainingStackResources } from '../helpers/inspect-stack.js';
import { stackProblems } from '../helpers/stack-checks.js';
import { lockState } from '../../src/state/lock.js';
import { EC2Client, CreateVpcCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { APIGatewayClient, DeleteRestApiCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';

/**
 * What a CI runner does to the state file: throws it away, leaves a broken one, one written by a newer
 * version, or a lock held by a live or a killed run. Nothing may be duplicated, orphaned or overwritten.
 */
const STACK = 'lost';
const CASE_TIMEOUT_MS = 60_000;

describe('a lost, corrupt, newer or locked state file', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let cwd: string;
  let statePath: string;

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy({ target: moto.endpoint });
  });
  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
  });
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-state-'));
    statePath = join(cwd, '.scalr-serverless', `${STACK}.json`);
    proxy.reset();
  });

  const cli = (args: string[], onSpawn?: (pid: number) => void): Promise<CliRun> =>
    runCli([...args, '--stack', STACK], { cwd, env: { ...moto.env, AWS_ENDPOINT_URL: proxy.url }, onSpawn });
  const writes = () => proxy.calls().filter((call) => call.write);
  const forgetState = () => Promise.all([rm(statePath, { force: true }), rm(`${statePath}.bak`, { force: true })]);

  it('up without its state file adopts the stack instead of duplicating it, and down without it leaves nothing', async () => {
    // given: a deployed stack whose state file is gone (a CI runner's thrown-away workspace)
    await moto.reset();
    expect((await cli(['up'])).code).toBe(0);
    await forgetState();

    // then: status still finds the whole stack by name and tag, and says so
    const lost = await cli(['status', '--json']);
    expect(lost.code, lost.stderr).toBe(0);
    expect(lost.json()).toMatchObject({ deployed: false });
    expect(lost.json().resources.length).toBeGreaterThanOrEqual(20);
    expect(lost.json().outputs.webhook_url).toMatch(/^https:\/\/.+\/prod\/webhook$/);

    // when: up runs again
    proxy.reset();
    const again = await cli(['up', '--json']);

    // then: every resource is adopted, none is created, and there is still exactly one stack
    expect(again.code, again.stderr).toBe(0);
    const summary = again.json().summary;
    expect(summary.create).toBe(0);
    expect(summary.adopt).toBeGreaterThanOrEqual(20);
    const actions = writes().map((call) => call.action);
    // Adopting an intact stack converges nothing: every wanted prop is observed as it is.
    expect(actions).toEqual([]);
    expect((await stackProblems(moto.endpoint, STACK)).problems).toEqual([]);

    // when: the state file is lost again and down runs
    await forgetState();
    const down = await cli(['down', '--yes']);

    // then: down found everything by name and tag
    expect(down.code, down.stderr).toBe(0);
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual([]);
  }, CASE_TIMEOUT_MS);

  it('an up killed midway whose state file is then lost still converges to one stack, and down removes it all', async () => {
    // given: an up killed after some writes, and its state file thrown away
    await moto.reset();
    const killed = await cli(['up'], (pid) => void proxy.killAfterWrite(18, pid));
    expect(killed.signal).toBe('SIGKILL');
    await forgetState();

    // when / then: up adopts what the killed run made and creates the rest
    const again = await cli(['up']);
    expect(again.code, again.stderr).toBe(0);
    expect((await stackProblems(moto.endpoint, STACK)).problems).toEqual([]);
    await forgetState();
    expect((await cli(['down', '--yes'])).code).toBe(0);
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual([]);
  }, CASE_TIMEOUT_MS);

  it('with the REST API deleted by hand and the state file lost, up adopts the usage plan (one, not two) and down removes it', async () => {
    // given: a stack whose REST API someone deleted, and whose state file is gone
    await moto.reset();
    expect((await cli(['up'])).code).toBe(0);
    const state = JSON.parse(await readFile(statePath, 'utf8'));
    const apigateway = new APIGatewayClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await apigateway.send(new DeleteRestApiCommand({ restApiId: state.resources.restApi.id }));
    await forgetState();
    const plans = async () => ((await apigateway.send(new GetUsagePlansCommand({}))).items ?? []).filter((p) => p.name === `scalr-serverless-${STACK}`);

    // when: up runs, then: one usage plan, covering the new API's stage, and the stack is whole
    const again = await cli(['up']);
    expect(again.code, again.stderr).toBe(0);
    expect(await plans()).toHaveLength(1);
    expect((await stackProblems(moto.endpoint, STACK)).problems).toEqual([]);

    // and when the API goes again and so does the state file, down still finds the plan by name
    const after = JSON.parse(await readFile(statePath, 'utf8'));
    await apigateway.send(new DeleteRestApiCommand({ restApiId: after.resources.restApi.id }));
    await forgetState();
    expect((await cli(['down', '--yes'])).code).toBe(0);
    expect(await plans()).toEqual([]);
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual([]);
  }, CASE_TIMEOUT_MS);

  it('a state file that lists a resource not of this stack makes up and down stop before deleting anything', async () => {
    // given: a deployed stack, and a VPC of someone else's written into its state file
    await moto.reset();
    expect((await cli(['up'])).code).toBe(0);
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const { Vpc: victim } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }));
    const state = JSON.parse(await readFile(statePath, 'utf8'));
    state.resources.foreign = { kind: 'ec2.vpc', name: 'foreign', id: victim!.VpcId, props: {}, outputs: { id: victim!.VpcId }, dependsOn: [] };
    await writeFile(statePath, JSON.stringify(state));
    proxy.reset();

    // when / then: both refuse, name the entry, write nothing, and the VPC is still there
    for (const args of [['up'], ['down', '--yes']]) {
      const run = await cli(args);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(victim!.VpcId);
      expect(run.stderr).toContain('not part of stack');
    }
    expect(writes()).toEqual([]);
    expect((await ec2.send(new DescribeVpcsCommand({ VpcIds: [victim!.VpcId!] }))).Vpcs).toHaveLength(1);
  }, CASE_TIMEOUT_MS);

  it('a corrupt state file is a clear error naming it, is left byte for byte, and nothing is written to AWS', async () => {
    await mkdir(join(cwd, '.scalr-serverless'), { recursive: true });
    const garbage = '{"formatVersion": 1, "tool": "scalr-serverless", "resources": {"vpc": {"id": "vpc-1"';
    await writeFile(statePath, garbage);
    for (const command of [['up'], ['down', '--yes']]) {
      const run = await cli(command);
      expect(run.code, command.join(' ')).not.toBe(0);
      expect(run.stderr).toContain(statePath);
      expect(run.stderr).toMatch(/not valid JSON/);
      expect(await readFile(statePath, 'utf8')).toBe(garbage);
    }
    expect(writes()).toEqual([]);
  });

  it('a state file from a newer version is refused with a clear error and left as it is', async () => {
    await mkdir(join(cwd, '.scalr-serverless'), { recursive: true });
    const newer = `${JSON.stringify({ formatVersion: 99, tool: 'scalr-serverless', stack: STACK, region: 'us-east-1', resources: {}, pools: {} })}\n`;
    await writeFile(statePath, newer);
    const run = await cli(['up']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(statePath);
    expect(run.stderr).toMatch(/format version 99.*newer/);
    expect(run.stderr).toMatch(/upgrade/);
    expect(await readFile(statePath, 'utf8')).toBe(newer);
    expect(writes()).toEqual([]);
  });

  it('a lock held by a live process is a clear error, and the state is not touched', async () => {
    // given: this test process holds the lock, as a concurrent up would
    const lock = await lockState(statePath, 'up', () => {});
    try {
      // when: another up starts
      const run = await cli(['up']);
      // then: it refuses, naming the holder, before any AWS write
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(new RegExp(`locked by process ${process.pid}\\b`));
      expect(writes()).toEqual([]);
      await expect(access(statePath)).rejects.toThrow();
    } finally {
      await lock.release();
    }
  });

  it('a lock left by a killed run is taken over with a warning, and the run finishes the job', async () => {
    // given: an up killed after its first write, leaving its lock behind
    await moto.reset();
    const killed = await cli(['up'], (pid) => void proxy.killAfterWrite(1, pid));
    expect(killed.signal).toBe('SIGKILL');
    await access(`${statePath}.lock`);

    // when: the next up starts
    const again = await cli(['up']);

    // then: it warns that it took the dead run's lock over, finishes, and releases the lock
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`taking over the lock.*process ${killed.pid}.*no longer running`));
    await expect(access(`${statePath}.lock`)).rejects.toThrow();
    expect((await stackProblems(moto.endpoint, STACK)).problems).toEqual([]);
    expect((await cli(['down', '--yes'])).code).toBe(0);
  }, CASE_TIMEOUT_MS);
});
