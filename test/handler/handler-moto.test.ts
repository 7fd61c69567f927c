import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { AGENT_CONTAINER_NAME, HANDLER_ENV, TASK_TAGS } from '../../lambda-src/contract.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { SECRETS, createHandlerStack, importHandler, proxyEvent, runHandlerInChild, unpackLambdaZip, webhookBody, type DeliveryOptions, type HandlerStack } from '../helpers/handler-fixture.js';

// The BUILT package (dist/lambda.zip, unpacked outside the repo) against moto, with a stack made by
// plain SDK calls. Everything is checked with independent ECS calls, never with the handler's code.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
type Handler = Awaited<ReturnType<typeof importHandler>>;
let moto: MotoServer;
let dir: string;
let stack: HandlerStack;
let handler: Handler;
let ecs: ECSClient;
const logged: string[] = [];
const context = { getRemainingTimeInMillis: () => 30_000 };

async function deliver(target: Handler, options: DeliveryOptions) {
  const response = await target(proxyEvent(options), context);
  return { statusCode: response.statusCode, body: JSON.parse(response.body) };
}

async function describeAll(cluster: string): Promise<Task[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster, nextToken }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const page = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100), include: ['TAGS'] }));
    tasks.push(...(page.tasks ?? []));
  }
  return tasks;
}

const tag = (task: Task, key: string) => task.tags?.find((t) => t.key === key)?.value;

/** Points the process at moto and at `target`, then loads a fresh instance of the built handler. */
async function loadHandler(target: HandlerStack, instance: string, extra: Record<string, string> = {}): Promise<Handler> {
  for (const name of Object.values(HANDLER_ENV)) delete process.env[name];
  Object.assign(process.env, moto.env, target.env, extra);
  return importHandler(dir, instance);
}

beforeAll(async () => {
  dir = await unpackLambdaZip();
  moto = await startMoto();
  stack = await createHandlerStack(moto, 'hm');
  ecs = new ECSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  vi.spyOn(console, 'log').mockImplementation((...args) => void logged.push(args.map(String).join(' ')));
  handler = await loadHandler(stack, 'main');
}, 60_000);

afterAll(async () => {
  vi.restoreAllMocks();
  ecs?.destroy();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the built handler against moto', () => {
  it('starts a task with the agent overrides and the run tags, found with DescribeTasks', async () => {
    const { statusCode, body } = await deliver(handler, {
      idempotencyKey: 'task-v1first',
      nameCase: (name) => name.toLowerCase(),
      body: webhookBody('task-v1first', { action: 'apply' }),
    });
    expect(statusCode).toBe(202);
    expect(body.duplicate).toBe(false);
    const [task] = (await ecs.send(new DescribeTasksCommand({ cluster: stack.cluster, tasks: [body.taskArn], include: ['TAGS'] }))).tasks!;
    expect(task.launchType).toBe('FARGATE');
    const definition = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: stack.taskDefinitionArn }));
    const override = task.overrides!.containerOverrides![0];
    // moto accepts any container name here, real ECS does not: check it against the task definition.
    expect(definition.taskDefinition!.containerDefinitions!.map((c) => c.name)).toContain(override.name);
    expect(override.name).toBe(AGENT_CONTAINER_NAME);
    expect(override.environment).toEqual(
      expect.arrayContaining([
        { name: 'SCALR_URL', value: SECRETS.url },
        { name: 'SCALR_TOKEN', value: SECRETS.token },
        { name: 'SCALR_AGENT_TOKEN', value: SECRETS.token },
      ]),
    );
    expect(tag(task, TASK_TAGS.taskId)).toBe('task-v1first');
    expect(tag(task, TASK_TAGS.runId)).toBe('run-task-v1first');
    expect(tag(task, TASK_TAGS.workspaceId)).toBe('ws-v0abc123');
    expect(tag(task, TASK_TAGS.environmentId)).toBe('env-v0def456');
    expect(tag(task, TASK_TAGS.action)).toBe('apply');
    expect(tag(task, TASK_TAGS.stack)).toBe('hm');
  });

  it('launches from a plain node process in the unpacked folder, with only the Lambda-style env', async () => {
    const run = await runHandlerInChild(dir, { ...moto.env, ...stack.env }, proxyEvent({ idempotencyKey: 'task-v1child', body: webhookBody('task-v1child') }));
    expect(run.statusCode).toBe(202);
    const tasks = (await describeAll(stack.cluster)).filter((task) => tag(task, TASK_TAGS.taskId) === 'task-v1child');
    expect(tasks.map((task) => task.taskArn)).toEqual([run.body.taskArn]);
  });

  it('answers a duplicate sent after the first was answered with 200 and the same task, starting none', async () => {
    const options = { idempotencyKey: 'task-v1dup', nameCase: (name: string) => name.toUpperCase(), body: webhookBody('task-v1dup') };
    const first = await deliver(handler, options);
    const second = await deliver(handler, { ...options, nameCase: undefined });
    expect(first.statusCode).toBe(202);
    expect(second).toEqual({ statusCode: 200, body: { taskArn: first.body.taskArn, duplicate: true } });
    const tasks = (await describeAll(stack.cluster)).filter((task) => tag(task, TASK_TAGS.taskId) === 'task-v1dup');
    expect(tasks).toHaveLength(1);
  });

  it.each([
    ['no X-Scalr-Token', 400, { headers: { 'X-Scalr-Token': undefined } }],
    ['an empty X-Scalr-Token', 400, { headers: { 'X-Scalr-Token': '' } }],
    ['no X-Scalr-Url', 400, { headers: { 'X-Scalr-Url': undefined } }],
    ['a relative X-Scalr-Url', 400, { headers: { 'X-Scalr-Url': '/not/absolute' } }],
    ['an http X-Scalr-Url', 400, { headers: { 'X-Scalr-Url': 'http://acme.scalr.io' } }],
  ] as [string, number, DeliveryOptions][])('rejects a delivery with %s (%i) and starts no task', async (_name, status, options) => {
    const before = (await describeAll(stack.cluster)).length;
    const { statusCode, body } = await deliver(handler, { ...options, body: webhookBody('task-v1bad') });
    expect(statusCode).toBe(status);
    expect(typeof body.error).toBe('string');
    expect((await describeAll(stack.cluster)).length).toBe(before);
  });

  it('with an allowlist set at up, answers 403 for other hosts and launches for allowed ones', async () => {
    const allowlisted = await loadHandler(stack, 'allowlist', { [HANDLER_ENV.allowedHosts]: '*.scalr.io' });
    const denied = await deliver(allowlisted, { headers: { 'X-Scalr-Url': 'https://scalr.evil.example' }, body: webhookBody('task-v1deny') });
    const apex = await deliver(allowlisted, { headers: { 'X-Scalr-Url': 'https://scalr.io' }, body: webhookBody('task-v1apex') });
    const allowed = await deliver(allowlisted, { body: webhookBody('task-v1allow') });
    expect([denied.statusCode, apex.statusCode, allowed.statusCode]).toEqual([403, 403, 202]);
    const ids = (await describeAll(stack.cluster)).map((task) => tag(task, TASK_TAGS.taskId));
    expect(ids).toContain('task-v1allow');
    expect(ids).not.toContain('task-v1deny');
    expect(ids).not.toContain('task-v1apex');
  });

  it('load: 200 deliveries for 120 task ids, 50 at a time, start exactly one task per id', async () => {
    // Given a fresh cluster and handler instance, and 80 ids that are delivered twice.
    const load = await createHandlerStack(moto, 'load');
    const target = await loadHandler(load, 'load');
    const ids = Array.from({ length: 120 }, (_, i) => `task-load${String(i).padStart(3, '0')}`);
    const duplicated = new Set(ids.slice(0, 80));
    const queue: { id: string; duplicate: boolean }[] = ids.map((id) => ({ id, duplicate: false }));
    const answers: { id: string; duplicate: boolean; statusCode: number; taskArn?: string }[] = [];
    const linesBefore = logged.length;

    // When 50 workers deliver them, each duplicate queued only once its first delivery was
    // answered (moto ignores clientToken, FACTS §6), at a random place among the remaining ones.
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const { statusCode, body } = await deliver(target, { idempotencyKey: item.id, body: webhookBody(item.id) });
        answers.push({ ...item, statusCode, taskArn: body.taskArn });
        if (!item.duplicate && duplicated.has(item.id)) {
          queue.splice(Math.floor(Math.random() * (queue.length + 1)), 0, { id: item.id, duplicate: true });
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));

    // Then every delivery got a 2xx, and ECS holds exactly one task per id, none lost.
    expect(answers).toHaveLength(200);
    expect(answers.filter((a) => a.statusCode < 200 || a.statusCode > 299)).toEqual([]);
    expect(answers.filter((a) => a.duplicate).every((a) => a.statusCode === 200)).toBe(true);
    const tasks = await describeAll(load.cluster);
    const taskIds = tasks.map((task) => tag(task, TASK_TAGS.taskId)).sort();
    expect(taskIds).toEqual([...ids].sort());
    const arnById = new Map(tasks.map((task) => [tag(task, TASK_TAGS.taskId), task.taskArn]));
    for (const answer of answers) expect(answer.taskArn).toBe(arnById.get(answer.id));
    expect(logged.length - linesBefore).toBe(200);
  }, 60_000);

  it('logged one JSON line per delivery and no token, API key or Scalr URL', () => {
    expect(logged.length).toBeGreaterThan(200);
    for (const line of logged) expect(() => JSON.parse(line)).not.toThrow();
    const output = logged.join('\n');
    for (const secret of Object.values(SECRETS)) expect(output).not.toContain(secret);
    expect(output).not.toContain('acme.scalr.io');
  });
});
