import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ConflictException, ECSClient, ListTasksCommand, RunTaskCommand, type RunTaskCommandInput, type RunTaskCommandOutput } from '@aws-sdk/client-ecs';
import { HANDLER_ENV } from '../../lambda-src/contract.js';
import { parseConfig } from '../../lambda-src/config.js';
import { createHandler, SAFETY_MARGIN_MS } from '../../lambda-src/handler.js';
import { SECRETS, proxyEvent, webhookBody, type DeliveryOptions } from '../helpers/handler-fixture.js';

// How the handler launches: retries, AZ fallback, 5xx on failure, and de-duplication, against a
// mocked ECS that models RunTask's clientToken the way ECS documents it (ECS_Idempotency).

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ENV = {
  [HANDLER_ENV.cluster]: 'agents',
  [HANDLER_ENV.taskDefinition]: 'arn:aws:ecs:us-east-1:123456789012:task-definition/agent:3',
  [HANDLER_ENV.container]: 'scalr-agent',
  [HANDLER_ENV.subnets]: 'subnet-a,subnet-b',
  [HANDLER_ENV.securityGroups]: 'sg-1,sg-2',
  [HANDLER_ENV.stack]: 'prod',
};
const CAPACITY = 'Capacity is unavailable at this time. Please try again later or in a different availability zone';
const ecsMock = mockClient(ECSClient);
const handler = createHandler({ ecs: new ECSClient({ region: 'us-east-1' }), config: parseConfig(ENV), timing: { initialDelayMs: 1, maxDelayMs: 4 } });
const captured: string[] = [];

/** A fake ECS: RunTask with a known clientToken returns the first call's result, as ECS documents. */
function fakeEcs(options: { listTasksSeesLaunches: boolean }) {
  const byToken = new Map<string, Promise<RunTaskCommandOutput>>();
  const launched: RunTaskCommandInput[] = [];
  const arnByStartedBy = new Map<string, string>();
  ecsMock.on(RunTaskCommand).callsFake((input: RunTaskCommandInput) => {
    const cached = input.clientToken ? byToken.get(input.clientToken) : undefined;
    if (cached) return cached;
    const result = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 20)); // a launch takes a while
      launched.push(input);
      const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/agents/t${launched.length}`;
      if (input.startedBy) arnByStartedBy.set(input.startedBy, taskArn);
      return { tasks: [{ taskArn, startedBy: input.startedBy }], failures: [], $metadata: {} };
    })();
    if (input.clientToken) byToken.set(input.clientToken, result);
    return result;
  });
  ecsMock.on(ListTasksCommand).callsFake(async (input) => {
    if (!options.listTasksSeesLaunches || input.desiredStatus === 'STOPPED') return { taskArns: [] };
    const taskArn = arnByStartedBy.get(input.startedBy);
    return { taskArns: taskArn ? [taskArn] : [] };
  });
  return launched;
}

async function deliver(options: DeliveryOptions = {}, remainingMs = 30_000) {
  const response = await handler(proxyEvent(options), { getRemainingTimeInMillis: () => remainingMs });
  return { response, body: JSON.parse(response.body) };
}

function runTaskInputs(): RunTaskCommandInput[] {
  return ecsMock.commandCalls(RunTaskCommand).map((call) => call.args[0].input);
}

const error = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: {} });
const capacityFailure = { tasks: [], failures: [{ reason: CAPACITY, arn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/x' }] };
const started = { tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/agents/ok' }], failures: [] };

beforeAll(() => {
  const keep = (...args: unknown[]) => void captured.push(args.map(String).join(' '));
  for (const method of ['log', 'warn', 'error', 'info'] as const) vi.spyOn(console, method).mockImplementation(keep);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (keep(chunk), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (keep(chunk), true));
});
afterAll(() => vi.restoreAllMocks());
beforeEach(() => {
  ecsMock.reset();
  ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
});

describe('launch', () => {
  it('asks for one Fargate task with a public IP, the security groups and a derived startedBy/clientToken', async () => {
    ecsMock.on(RunTaskCommand).resolves(started);
    const key = `k-${'x'.repeat(100)}`; // longer than both limits
    const { response, body } = await deliver({ idempotencyKey: key });
    expect(response.statusCode).toBe(202);
    expect(body).toEqual({ taskArn: started.tasks[0].taskArn, duplicate: false });
    const [input] = runTaskInputs();
    expect(input).toMatchObject({ cluster: 'agents', taskDefinition: ENV[HANDLER_ENV.taskDefinition], launchType: 'FARGATE', count: 1 });
    expect(input.networkConfiguration!.awsvpcConfiguration).toMatchObject({ securityGroups: ['sg-1', 'sg-2'], assignPublicIp: 'ENABLED' });
    expect(input.startedBy).toMatch(/^scalr-[0-9a-f]{30}$/);
    expect(input.clientToken!.length).toBeLessThanOrEqual(64);
    expect(input.clientToken).toMatch(/^[\x21-\x7e]+$/);
    expect(ecsMock.commandCalls(ListTasksCommand).map((call) => call.args[0].input.startedBy)).toEqual([input.startedBy, input.startedBy]);
  });

  it('on a capacity failure tries the other subnet, and answers 503 when no AZ has capacity', async () => {
    ecsMock.on(RunTaskCommand).resolves(capacityFailure);
    const { response, body } = await deliver({}, SAFETY_MARGIN_MS + 200);
    expect(response.statusCode).toBe(503);
    expect(body.error).toContain('Capacity is unavailable');
    const subnets = runTaskInputs().map((input) => input.networkConfiguration!.awsvpcConfiguration!.subnets);
    expect(subnets.length).toBeGreaterThanOrEqual(2);
    expect(subnets.every((list) => list!.length === 1)).toBe(true);
    expect(new Set(subnets.slice(0, 2).flat())).toEqual(new Set(['subnet-a', 'subnet-b']));
  });

  it('a capacity failure in one AZ followed by a launch in the other is a 202', async () => {
    ecsMock.on(RunTaskCommand).resolvesOnce(capacityFailure).resolves(started);
    const { response } = await deliver();
    expect(response.statusCode).toBe(202);
    const [first, second] = runTaskInputs().map((input) => input.networkConfiguration!.awsvpcConfiguration!.subnets![0]);
    expect(second).not.toBe(first);
  });

  it.each([
    ['ThrottlingException', 'Rate exceeded'],
    ['InvalidParameterException', 'Rate exceeded'], // EC2 throttling as ECS wraps it (FACTS §5)
  ])('retries %s "%s" and then launches', async (name, message) => {
    ecsMock.on(RunTaskCommand).rejectsOnce(error(name, message)).rejectsOnce(error(name, message)).resolves(started);
    const { response } = await deliver();
    expect(response.statusCode).toBe(202);
    expect(runTaskInputs()).toHaveLength(3);
  });

  it('stops retrying throttling when the invocation runs out of time, and answers 503', async () => {
    ecsMock.on(RunTaskCommand).rejects(error('ThrottlingException', 'Rate exceeded'));
    const startedAt = Date.now();
    const { response, body } = await deliver({}, SAFETY_MARGIN_MS + 150);
    expect(response.statusCode).toBe(503);
    expect(body.error).toContain('ThrottlingException');
    expect(Date.now() - startedAt).toBeLessThan(1000);
  });

  it.each([
    ['AccessDeniedException', 'not authorized to perform ecs:RunTask'],
    ['InvalidParameterException', 'Container override name does not exist'],
    ['ClusterNotFoundException', 'Cluster not found.'],
  ])('a %s is not retried and answers 502 with the reason', async (name, message) => {
    ecsMock.on(RunTaskCommand).rejects(error(name, message));
    const { response, body } = await deliver();
    expect(response.statusCode).toBe(502);
    expect(body.error).toContain(message);
    expect(runTaskInputs()).toHaveLength(1);
  });

  it('a non-capacity RunTask failure answers 502 and is not retried', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'MISSING', detail: 'task definition inactive' }] });
    const { response, body } = await deliver();
    expect(response.statusCode).toBe(502);
    expect(body.error).toContain('MISSING');
    expect(runTaskInputs()).toHaveLength(1);
  });

  it('without any key it still launches, without startedBy or a look-up, and logs that it cannot dedupe', async () => {
    ecsMock.on(RunTaskCommand).resolves(started);
    const before = captured.length;
    const { response } = await deliver({ idempotencyKey: null, body: { action: 'plan' } });
    expect(response.statusCode).toBe(202);
    expect(runTaskInputs()[0].startedBy).toBeUndefined();
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(0);
    expect(JSON.parse(captured.slice(before).join(''))).toMatchObject({ dedupe: 'none', outcome: 'started' });
  });

  it('a failed ListTasks look-up does not block the launch', async () => {
    ecsMock.on(ListTasksCommand).rejects(error('AccessDeniedException', 'ecs:ListTasks'));
    ecsMock.on(RunTaskCommand).resolves(started);
    const { response } = await deliver();
    expect(response.statusCode).toBe(202);
  });
});

describe('one task per Scalr task', () => {
  it('a retried delivery after the first was answered gets 200 with the same task, and no second launch', async () => {
    const launched = fakeEcs({ listTasksSeesLaunches: true });
    const options = { idempotencyKey: 'task-retry', body: webhookBody('task-retry') };
    const first = await deliver(options);
    const second = await deliver(options);
    expect(first.response.statusCode).toBe(202);
    expect(second.response.statusCode).toBe(200);
    expect(second.body).toEqual({ taskArn: first.body.taskArn, duplicate: true });
    expect(launched).toHaveLength(1);
  });

  it('concurrent duplicates, which all miss in ListTasks, start one task through the clientToken', async () => {
    const launched = fakeEcs({ listTasksSeesLaunches: false }); // ListTasks is eventually consistent
    const options = { idempotencyKey: 'task-concurrent', body: webhookBody('task-concurrent') };
    const responses = await Promise.all(Array.from({ length: 8 }, () => deliver(options)));
    expect(responses.every(({ response }) => response.statusCode >= 200 && response.statusCode < 300)).toBe(true);
    expect(new Set(responses.map(({ body }) => body.taskArn)).size).toBe(1);
    expect(launched).toHaveLength(1);
    // Different tasks are not merged.
    await deliver({ idempotencyKey: 'task-other', body: webhookBody('task-other') });
    expect(launched).toHaveLength(2);
  });

  it('a ConflictException (token already used with other parameters) answers 200 with that task', async () => {
    const arn = 'arn:aws:ecs:us-east-1:123456789012:task/agents/first';
    ecsMock.on(RunTaskCommand).rejects(new ConflictException({ message: 'clientToken in use', resourceIds: [arn], $metadata: {} }));
    const { response, body } = await deliver();
    expect(response.statusCode).toBe(200);
    expect(body).toEqual({ taskArn: arn, duplicate: true });
  });
});

it('printed one line per delivery, none holding the token, the API key or the Scalr URL', () => {
  const lines = captured.join('\n').split('\n').filter((line) => line.trim() !== '');
  expect(lines.length).toBeGreaterThan(15);
  for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  for (const secret of Object.values(SECRETS)) expect(captured.join('\n')).not.toContain(secret);
  expect(captured.join('\n')).not.toContain('acme.scalr.io');
});
