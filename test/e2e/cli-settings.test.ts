import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runCli } from '../helpers/cli.js';
import { inspectorClients, remainingStackResources } from '../helpers/inspect-stack.js';

const STACK = 'settings';
const PREFIX = `scalr-serverless-${STACK}`;
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const TD_ENV = 'SCALR_SERVERLESS_TASK_DEFINITION';

/** What AWS itself says about the settings-bearing resources, read with the test's own clients. */
async function observed(c: ReturnType<typeof inspectorClients>) {
  const fn = await c.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: `${PREFIX}-webhook` }));
  const taskDefinitionArn = fn.Environment!.Variables![TD_ENV];
  const { taskDefinition } = await c.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
  const [group] = (await c.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:scalr-serverless:stack', Values: [STACK] }] }))).SecurityGroups!;
  const attached = await c.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: `${PREFIX}-task` }));
  return {
    taskDefinitionArn,
    taskDefinitionStatus: taskDefinition!.status,
    size: [taskDefinition!.cpu, taskDefinition!.memory],
    timeout: fn.Timeout,
    groupId: group.GroupId,
    allIngress: (group.IpPermissions ?? []).some((p) => p.IpProtocol === '-1' && p.IpRanges?.some((r) => r.CidrIp === '0.0.0.0/0')),
    taskPolicies: (attached.AttachedPolicies ?? []).map((p) => p.PolicyArn),
  };
}

describe('plan shows the change first; up remembers settings and updates in place', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let cwd: string;
  let c: ReturnType<typeof inspectorClients>;
  const statePath = () => join(cwd, '.scalr-serverless', `${STACK}.json`);
  // Every run goes through the proxy, which records each AWS call with whether it writes.
  const cli = (args: string[]) => runCli([...args, '--stack', STACK], { cwd, env: { ...moto.env, AWS_ENDPOINT_URL: proxy.url } });
  const writes = () => proxy.calls().filter((call) => call.write).map((call) => `${call.service}:${call.action}`);

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy({ target: moto.endpoint });
    cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-settings-'));
    c = inspectorClients(moto.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
  });

  it('plan and up --dry-run on an empty account: every resource listed as create, zero writes, no state file', async () => {
    for (const args of [['plan'], ['up', '--dry-run']]) {
      proxy.reset();
      const text = await cli(args);
      expect(text.code, text.stderr).toBe(0);
      const json = await cli([...args, '--json']);
      expect(json.code, json.stderr).toBe(0);
      const steps: { action: string; label: string; name: string }[] = json.json().plan;
      expect(steps.length).toBeGreaterThanOrEqual(20);
      expect(new Set(steps.map((s) => s.action))).toEqual(new Set(['create']));
      // The text form has one "create" line per resource of the JSON plan.
      for (const step of steps) expect(text.stdout).toContain(`${step.label} ${step.name}: create`);
      expect(text.stdout).toMatch(new RegExp(`${steps.length} to create`));
      expect(writes()).toEqual([]);
    }
    await expect(stat(statePath())).rejects.toThrow(/ENOENT/);
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual([]);
  });

  it('after up, plan --cpu 2048 --memory 4096 shows the task definition and handler updates, and writes nothing', async () => {
    const up = await cli(['up', '--quiet']);
    expect(up.code, up.stderr).toBe(0);
    const before = await observed(c);
    const stateBefore = await readFile(statePath(), 'utf8');

    proxy.reset();
    const run = await cli(['plan', '--cpu', '2048', '--memory', '4096']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/~ Task Definition scalr-serverless-settings-agent: update \(.*cpu.*memory.*\)/);
    expect(run.stdout).toMatch(/cpu: 1024 -> 2048/);
    expect(run.stdout).toMatch(/memory: 2048 -> 4096/);
    expect(run.stdout).toMatch(/~ Lambda Function scalr-serverless-settings-webhook: update \(environment changed\)/);
    expect(run.stdout).toMatch(new RegExp(`environment\\.${TD_ENV}: .* -> \\(known after apply\\)`));
    expect(run.stdout).toMatch(/0 to create, 0 to adopt, 2 to update, 0 to replace, 0 to delete/);
    expect(writes()).toEqual([]);
    expect(await readFile(statePath(), 'utf8')).toBe(stateBefore);
    expect(await observed(c)).toEqual(before);

    const same = await cli(['plan']);
    expect(same.stdout).toContain(`Stack ${STACK} is up to date: no changes.`);
    expect(writes()).toEqual([]);
  });

  it('up with new settings updates in place; up with no flags keeps every one of them', async () => {
    const before = await observed(c);
    const run = await cli(['up', '--quiet', '--cpu', '2048', '--memory', '4096', '--lambda-timeout', '60', '--allow-all-ingress', '--task-policy-arn', READ_ONLY]);
    expect(run.code, run.stderr).toBe(0);
    const after = await observed(c);
    expect(after.taskDefinitionArn).not.toBe(before.taskDefinitionArn);
    expect(after).toMatchObject({ taskDefinitionStatus: 'ACTIVE', size: ['2048', '4096'], timeout: 60, groupId: before.groupId, allIngress: true, taskPolicies: [READ_ONLY] });
    const { taskDefinition: old } = await c.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: before.taskDefinitionArn }));
    expect(old!.status).toBe('INACTIVE');

    // Given nothing on the command line, the remembered settings win over the defaults.
    proxy.reset();
    const again = await cli(['up', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().plan.filter((step: { action: string }) => step.action !== 'noop')).toEqual([]);
    expect(writes()).toEqual([]);
    expect(await observed(c)).toEqual(after);
    const plan = await cli(['plan']);
    expect(plan.stdout).toContain(`Stack ${STACK} is up to date: no changes.`);
  });

  it('--no-allow-all-ingress closes the same security group in place, and plan says so first', async () => {
    const before = await observed(c);
    const plan = await cli(['plan', '--no-allow-all-ingress']);
    expect(plan.stdout).toMatch(/~ Security Group scalr-serverless-settings-agent: update/);
    expect(plan.stdout).toMatch(/allowAllIngress: true -> false/);
    const run = await cli(['up', '--quiet', '--no-allow-all-ingress']);
    expect(run.code, run.stderr).toBe(0);
    const after = await observed(c);
    expect(after.groupId).toBe(before.groupId);
    expect(after.allIngress).toBe(false);
    // The other settings stay as they were remembered.
    expect(after).toMatchObject({ size: ['2048', '4096'], timeout: 60, taskPolicies: [READ_ONLY], taskDefinitionArn: before.taskDefinitionArn });
  });

  it('--no-task-policies detaches the policy and keeps the other settings', async () => {
    const run = await cli(['up', '--quiet', '--no-task-policies']);
    expect(run.code, run.stderr).toBe(0);
    expect((await observed(c)).taskPolicies).toEqual([]);
    const settings = JSON.parse(await readFile(statePath(), 'utf8')).settings;
    expect(settings).toMatchObject({ cpu: 2048, memory: 4096, lambdaTimeout: 60, allowAllIngress: false, taskPolicyArns: [] });
  });
});
