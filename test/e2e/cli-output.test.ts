import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetApiKeysCommand, GetUsagePlansCommand, DeleteUsagePlanKeyCommand } from '@aws-sdk/client-api-gateway';
import { RunTaskCommand } from '@aws-sdk/client-ecs';
import { GetFunctionConfigurationCommand, RemovePermissionCommand } from '@aws-sdk/client-lambda';
import { CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { inspectorClients, remainingStackResources } from '../helpers/inspect-stack.js';

const STACK = 'output';
const PREFIX = `scalr-serverless-${STACK}`;
const DURATION = String.raw`\d+ms|\d+\.\ds|\d+m\d\ds`;

/**
 * What a user (or a script) sees: plain progress lines, --quiet, one JSON document per --json run,
 * the API key masked everywhere unless asked for, iam-policy, doctor and logs. One moto, one stack.
 */
describe('output a careful user can trust', () => {
  let moto: MotoServer;
  let cwd: string;
  let c: ReturnType<typeof inspectorClients>;
  let apiKey: string;
  /** Every run whose output must not hold the key. */
  const masked: CliRun[] = [];
  const statePath = () => join(cwd, '.scalr-serverless', `${STACK}.json`);
  const cli = async (args: string[], options: { cwd?: string } = {}) => {
    // iam-policy is the one command without --stack: it reads no stack.
    const run = await runCli(args[0] === 'iam-policy' ? args : [...args, '--stack', STACK], { cwd: options.cwd ?? cwd, env: moto.env });
    if (!args.includes('--show-secrets')) masked.push(run);
    return run;
  };
  /** Runs with --json and checks stdout is exactly one JSON document (JSON.parse takes no second one). */
  const json = async (args: string[]) => {
    const run = await cli([...args, '--json']);
    return { run, doc: run.json() };
  };

  beforeAll(async () => {
    moto = await startMoto();
    cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-output-'));
    c = inspectorClients(moto.endpoint);
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('plain up off a terminal: one line per resource with action and elapsed time, then a summary', async () => {
    const run = await cli(['up']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/\x1b\[/); // no spinner or colour codes in a CI log
    const done = run.stderr.split('\n').filter((line) => new RegExp(`^\\+ .+: created \\((${DURATION})\\)$`).test(line));
    expect(done.length).toBeGreaterThanOrEqual(20);
    // One finished line per resource of the plan, none twice.
    const { doc } = await json(['plan']);
    for (const step of doc.plan) expect(done.filter((line: string) => line.startsWith(`+ ${step.label} ${step.name}: created`))).toHaveLength(1);
    expect(run.stderr).toMatch(new RegExp(`Stack ${STACK} is up in (${DURATION}): ${done.length} created, 0 unchanged\\.`));
    expect(run.stdout).toMatch(/webhook_url = https:\/\/\w+\.execute-api\.us-east-1\.amazonaws\.com\/prod\/webhook/);
    expect(run.stdout).toMatch(/api_key {5}= .{4}\*{8,} +\(secret: add --show-secrets to see it\)/);

    const keys = await c.apigateway.send(new GetApiKeysCommand({ nameQuery: PREFIX, includeValues: true }));
    apiKey = keys.items!.find((k) => k.name === PREFIX)!.value!;
    expect(apiKey.length).toBeGreaterThanOrEqual(20);
  });

  it('--quiet prints no progress, only the result', async () => {
    const run = await cli(['up', '--quiet', '--lambda-timeout', '45']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Outputs:/);
    expect((await json(['plan'])).doc.summary.update).toBe(0);
  });

  it('--json on up, plan, status and iam-policy: one document on stdout, nothing on stderr', async () => {
    const up = await json(['up']);
    expect(up.doc).toMatchObject({ stack: STACK, dryRun: false, outputs: { api_key: expect.stringMatching(/^.{4}\*+$/) } });
    const plan = await json(['plan']);
    expect(plan.doc).toMatchObject({ stack: STACK, dryRun: true, summary: { create: 0, update: 0 } });
    const status = await json(['status']);
    expect(status.doc).toMatchObject({ deployed: true, outputs: { webhook_url: up.doc.outputs.webhook_url } });
    expect(status.doc.resources.every((r: { exists: boolean; drift?: string }) => r.exists && !r.drift)).toBe(true);
    const policy = await json(['iam-policy']);
    expect(policy.doc.Version).toBe('2012-10-17');
    for (const { run } of [up, plan, status, policy]) {
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
    }
  });

  it('the API key shows only with status --show-secrets; the state file is 0600 and free of it', async () => {
    const shown = await cli(['status', '--show-secrets']);
    expect(shown.stdout).toContain(`api_key     = ${apiKey}`);
    const shownJson = await cli(['status', '--show-secrets', '--json']);
    expect(shownJson.json().outputs.api_key).toBe(apiKey);
    const plain = await cli(['status']);
    expect(plain.stdout).toContain(`api_key     = ${apiKey.slice(0, 4)}*`);
    for (const file of [statePath(), `${statePath()}.bak`]) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, 'utf8')).not.toContain(apiKey);
    }
  });

  it('iam-policy: valid JSON naming scalr-serverless ARNs; --region and --account-id narrow them; a bad account id is exit 2', async () => {
    const wide = await runCli(['iam-policy']);
    expect(wide.code).toBe(0);
    const arns = (doc: { Statement: { Resource: string | string[] }[] }) => doc.Statement.flatMap((s) => [s.Resource].flat()).filter((r) => r.startsWith('arn:'));
    const wideArns = arns(wide.json());
    for (const service of ['iam', 'lambda', 'logs', 'ecs']) {
      const own = wideArns.filter((arn) => arn.split(':')[2] === service);
      expect(own.length, service).toBeGreaterThan(0);
      // The one role outside our names is ECS's service-linked role, whose name AWS fixes.
      const foreign = own.filter((arn) => !arn.includes('scalr-serverless') && !arn.endsWith(':role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS'));
      expect(foreign, service).toEqual([]);
    }
    expect(wideArns.some((arn) => arn.split(':')[3] === '*')).toBe(true);

    const narrow = await runCli(['iam-policy', '--region', 'eu-west-1', '--account-id', '111122223333']);
    expect(narrow.code).toBe(0);
    const narrowArns = arns(narrow.json());
    expect(narrowArns).toHaveLength(wideArns.length);
    for (const arn of narrowArns) {
      const [, , service, region, account] = arn.split(':');
      if (service !== 'iam') expect(region, arn).toBe('eu-west-1');
      if (service !== 'apigateway') expect(account, arn).toBe('111122223333');
    }
    const bad = await runCli(['iam-policy', '--account-id', '12345']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid --account-id "12345"/);
    expect(bad.stderr).toMatch(/12-digit/);
    expect(bad.stdout).toBe('');
  });

  it('logs: handler and agent lines; --run picks one run; --json is one document', async () => {
    // Given two agent tasks tagged with their run ids, as the handler tags them, and a log line of each.
    const env = (await c.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: `${PREFIX}-webhook` }))).Environment!.Variables!;
    const taskIds: Record<string, string> = {};
    for (const runId of ['run-1', 'run-2']) {
      const { tasks } = await c.ecs.send(
        new RunTaskCommand({
          cluster: PREFIX,
          taskDefinition: env.SCALR_SERVERLESS_TASK_DEFINITION,
          launchType: 'FARGATE',
          networkConfiguration: { awsvpcConfiguration: { subnets: env.SCALR_SERVERLESS_SUBNETS.split(','), securityGroups: env.SCALR_SERVERLESS_SECURITY_GROUPS.split(','), assignPublicIp: 'ENABLED' } },
          tags: [{ key: 'scalr:run-id', value: runId }],
        }),
      );
      taskIds[runId] = tasks![0].taskArn!.split('/').pop()!;
    }
    const now = Date.now();
    const put = async (group: string, stream: string, messages: string[]) => {
      await c.logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
      await c.logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: messages.map((message, i) => ({ timestamp: now - 60_000 + i, message })) }));
    };
    await put(`/aws/lambda/${PREFIX}-webhook`, '2026/01/01/[$LATEST]abc', ['{"outcome":"started","run_id":"run-1"}', '{"outcome":"started","run_id":"run-2"}']);
    await put(`/ecs/${PREFIX}`, `agent/scalr-agent/${taskIds['run-1']}`, ['agent says: terraform plan for the first run']);
    await put(`/ecs/${PREFIX}`, `agent/scalr-agent/${taskIds['run-2']}`, ['agent says: terraform apply for the second run']);

    const all = await cli(['logs']);
    expect(all.code, all.stderr).toBe(0);
    for (const text of ['"run_id":"run-1"', '"run_id":"run-2"', 'first run', 'second run']) expect(all.stdout).toContain(text);
    expect(all.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z handler +\{"outcome"/m);
    expect(all.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z agent +agent says/m);

    const one = await cli(['logs', '--run', 'run-1']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain('first run');
    expect(one.stdout).toContain('"run_id":"run-1"');
    expect(one.stdout).not.toContain('second run');
    expect(one.stdout).not.toContain('run-2');

    const { run, doc } = await json(['logs', '--run', 'run-2']);
    expect(run.code).toBe(0);
    expect(doc.lines.map((line: { source: string; message: string }) => `${line.source}: ${line.message}`).sort()).toEqual([
      'agent: agent says: terraform apply for the second run',
      'handler: {"outcome":"started","run_id":"run-2"}',
    ]);
  });

  it('doctor: healthy is exit 0; wiring broken out of band is exit 1 with the fix; up repairs it', async () => {
    const healthy = await cli(['doctor']);
    expect(healthy.code, healthy.stdout + healthy.stderr).toBe(0);
    expect(healthy.stdout).toContain('All checks passed.');
    expect((await json(['doctor'])).doc.healthy).toBe(true);

    // When the key leaves the usage plan (every delivery would get 403)...
    const state = JSON.parse(await readFile(statePath(), 'utf8'));
    const plan = (await c.apigateway.send(new GetUsagePlansCommand({}))).items!.find((p) => p.name === PREFIX)!;
    await c.apigateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId: plan.id, keyId: state.resources.apiKey.id }));
    const noKey = await cli(['doctor']);
    expect(noKey.code).toBe(1);
    expect(noKey.stdout).toMatch(/FAIL API key and usage plan: the API key is not in the usage plan: every delivery gets 403\n\s+fix: run `scalr-serverless up`/);
    const noKeyJson = await json(['doctor']);
    expect(noKeyJson.run.code).toBe(1);
    expect(noKeyJson.doc.healthy).toBe(false);
    expect(noKeyJson.doc.checks.find((check: { status: string }) => check.status === 'fail').fix).toMatch(/scalr-serverless up/);

    // ...and when API Gateway loses its permission to invoke the handler.
    await c.lambda.send(new RemovePermissionCommand({ FunctionName: `${PREFIX}-webhook`, StatementId: 'scalr-serverless-apigateway-invoke' }));
    const noPermission = await cli(['doctor']);
    expect(noPermission.code).toBe(1);
    expect(noPermission.stdout).toMatch(/FAIL Lambda permission for API Gateway: .*Invalid permissions on Lambda function/);

    const repair = await cli(['up', '--quiet']);
    expect(repair.code, repair.stderr).toBe(0);
    const repaired = await cli(['doctor']);
    expect(repaired.code, repaired.stdout).toBe(0);
  });

  it('errors under --json: one JSON error document, exit 2 for bad usage and 1 for failures', async () => {
    const usage = [['up', '--cpu', '333'], ['up', '--no-such-flag'], ['down'], ['iam-policy', '--account-id', 'x'], ['logs', '--follow']];
    for (const args of usage) {
      const run = await cli([...args, '--json']);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.json().error).toMatchObject({ code: 'USAGE', message: expect.any(String), internal: false });
    }
    const dir = await mkdtemp(join(tmpdir(), 'scalr-serverless-output-corrupt-'));
    await mkdir(join(dir, '.scalr-serverless'));
    await writeFile(join(dir, '.scalr-serverless', `${STACK}.json`), 'not json');
    const corrupt = await cli(['status', '--json'], { cwd: dir });
    expect(corrupt.code).toBe(1);
    expect(corrupt.json().error).toMatchObject({ code: 'STATE_CORRUPT', message: expect.stringContaining(dir) });
  });

  it('down --json: one document listing what was deleted; nothing is left', async () => {
    const { run, doc } = await json(['down', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(doc.deleted.length).toBeGreaterThanOrEqual(20);
    expect(doc.stoppedTasks).toBe(2);
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual([]);
  });

  it('the API key appeared in no output of any run without --show-secrets', () => {
    expect(masked.length).toBeGreaterThan(20);
    for (const run of masked) {
      expect(run.stdout).not.toContain(apiKey);
      expect(run.stderr).not.toContain(apiKey);
    }
  });
});
