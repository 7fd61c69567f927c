import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ECSClient, ListTasksCommand, RunTaskCommand, type RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { HANDLER_ENV, TASK_TAGS } from '../../lambda-src/contract.js';
import { parseConfig } from '../../lambda-src/config.js';
import { createHandler } from '../../lambda-src/handler.js';
import type { ProxyEvent } from '../../lambda-src/request.js';
import { SECRETS, proxyEvent, webhookBody, type DeliveryOptions } from '../helpers/handler-fixture.js';

// Validation, header and body handling, against a mocked ECS. Everything printed while these
// cases run is captured, and the last test checks that none of it holds a secret or header value.

const ENV = {
  [HANDLER_ENV.cluster]: 'agents',
  [HANDLER_ENV.taskDefinition]: 'arn:aws:ecs:us-east-1:123456789012:task-definition/agent:3',
  [HANDLER_ENV.container]: 'scalr-agent',
  [HANDLER_ENV.subnets]: 'subnet-a,subnet-b',
  [HANDLER_ENV.securityGroups]: 'sg-1',
  [HANDLER_ENV.stack]: 'prod',
};
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1' });
const captured: string[] = [];
const headerValues = new Set<string>(Object.values(SECRETS));

function handlerWith(env: Record<string, string> = ENV) {
  return createHandler({ ecs, config: parseConfig(env), timing: { initialDelayMs: 1, maxDelayMs: 2 } });
}

async function deliver(options: DeliveryOptions = {}, env?: Record<string, string>) {
  const event: ProxyEvent = proxyEvent(options);
  // Every header value joins the never-logged set, except an Idempotency-Key that is a task id
  // (`task-...`): Scalr sends the task id there, and the task id is logged from the body by design.
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    for (const value of values ?? []) {
      if (!value || value.length < 6 || (/^idempotency-key$/i.test(name) && value.startsWith('task-'))) continue;
      headerValues.add(value);
    }
  }
  const before = captured.length;
  const response = await handlerWith(env)(event, { getRemainingTimeInMillis: () => 30_000 });
  const lines = captured.slice(before);
  return { response, body: JSON.parse(response.body), lines };
}

function lastRunTask(): RunTaskCommandInput {
  const calls = ecsMock.commandCalls(RunTaskCommand);
  return calls[calls.length - 1].args[0].input;
}

beforeAll(() => {
  const keep = (...args: unknown[]) => void captured.push(args.map(String).join(' '));
  vi.spyOn(console, 'log').mockImplementation(keep);
  vi.spyOn(console, 'warn').mockImplementation(keep);
  vi.spyOn(console, 'error').mockImplementation(keep);
  vi.spyOn(console, 'info').mockImplementation(keep);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (keep(chunk), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (keep(chunk), true));
});
afterAll(() => vi.restoreAllMocks());

beforeEach(() => {
  ecsMock.reset();
  ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
  let n = 0;
  ecsMock.on(RunTaskCommand).callsFake(async () => ({ tasks: [{ taskArn: `arn:aws:ecs:us-east-1:123456789012:task/agents/t${++n}` }], failures: [] }));
});

describe('validation before any AWS call', () => {
  const cases: [string, number, DeliveryOptions, RegExp][] = [
    ['missing X-Scalr-Token', 400, { headers: { 'X-Scalr-Token': undefined } }, /X-Scalr-Token/],
    ['empty X-Scalr-Token', 400, { headers: { 'X-Scalr-Token': '   ' } }, /X-Scalr-Token/],
    ['missing X-Scalr-Url', 400, { headers: { 'X-Scalr-Url': undefined } }, /X-Scalr-Url/],
    ['relative X-Scalr-Url', 400, { headers: { 'X-Scalr-Url': 'acme.scalr.io/path' } }, /absolute/],
    ['http X-Scalr-Url', 400, { headers: { 'X-Scalr-Url': 'http://acme.scalr.io' } }, /https/],
  ];
  it.each(cases)('%s is answered %i with a JSON error and starts no task', async (_name, status, options, message) => {
    const { response, body, lines } = await deliver({ ...options, body: webhookBody('task-v1') });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('application/json');
    expect(body.error).toMatch(message);
    expect(ecsMock.calls()).toHaveLength(0);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ outcome: 'rejected', statusCode: status });
  });

  const allowlisted = { ...ENV, [HANDLER_ENV.allowedHosts]: '*.scalr.io, scalr.example.com' };
  it.each([
    ['https://evil.example.org', 403],
    ['https://scalr.io', 403], // the bare apex is not covered by *.scalr.io
    ['https://evilscalr.io', 403],
    ['https://acme.scalr.io', 202],
    ['https://a.b.scalr.io/', 202],
    ['https://SCALR.example.com', 202],
  ])('with an allowlist, %s is answered %i', async (url, status) => {
    const { response } = await deliver({ headers: { 'X-Scalr-Url': url } }, allowlisted);
    expect(response.statusCode).toBe(status);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(status === 202 ? 1 : 0);
  });

  it('a misconfigured function answers 500 naming the missing variable, and calls nothing', async () => {
    const { [HANDLER_ENV.subnets]: _dropped, ...env } = ENV;
    const { response, body } = await deliver({}, env);
    expect(response.statusCode).toBe(500);
    expect(body.error).toContain(HANDLER_ENV.subnets);
    expect(ecsMock.calls()).toHaveLength(0);
  });
});

describe('headers and body', () => {
  it.each([
    ['lower case', (name: string) => name.toLowerCase()],
    ['upper case', (name: string) => name.toUpperCase()],
    ['mixed case', (name: string) => name.replace(/[a-z]/g, (c, i) => (i % 2 ? c.toUpperCase() : c))],
  ])('finds headers in %s and passes them to the agent container', async (_name, nameCase) => {
    const { response, body } = await deliver({ nameCase, singleValueOnly: true, body: webhookBody('task-case') });
    expect(response.statusCode).toBe(202);
    expect(body).toEqual({ taskArn: expect.stringContaining(':task/agents/'), duplicate: false });
    const override = lastRunTask().overrides!.containerOverrides![0];
    expect(override.name).toBe('scalr-agent');
    expect(override.environment).toEqual(
      expect.arrayContaining([
        { name: 'SCALR_URL', value: SECRETS.url },
        { name: 'SCALR_TOKEN', value: SECRETS.token },
        { name: 'SCALR_AGENT_TOKEN', value: SECRETS.token },
      ]),
    );
  });

  it('finds headers that are only in multiValueHeaders', async () => {
    const { response } = await deliver({ multiValueOnly: true, nameCase: (n) => n.toLowerCase() });
    expect(response.statusCode).toBe(202);
    expect(lastRunTask().overrides!.containerOverrides![0].environment).toContainEqual({ name: 'SCALR_TOKEN', value: SECRETS.token });
  });

  it('decodes a base64 body and tags the task with its ids', async () => {
    const { response } = await deliver({ body: webhookBody('task-b64', { action: 'apply' }), base64: true });
    expect(response.statusCode).toBe(202);
    expect(lastRunTask().tags).toEqual(
      expect.arrayContaining([
        { key: TASK_TAGS.taskId, value: 'task-b64' },
        { key: TASK_TAGS.runId, value: 'run-task-b64' },
        { key: TASK_TAGS.workspaceId, value: 'ws-v0abc123' },
        { key: TASK_TAGS.environmentId, value: 'env-v0def456' },
        { key: TASK_TAGS.action, value: 'apply' },
        { key: TASK_TAGS.stack, value: 'prod' },
      ]),
    );
  });

  it.each([['not json {'], ['[1,2,3]'], ['null']])('a malformed body (%s) still launches, tagged with the stack only', async (raw) => {
    const { response } = await deliver({ body: raw });
    expect(response.statusCode).toBe(202);
    expect(lastRunTask().tags).toEqual([{ key: TASK_TAGS.stack, value: 'prod' }]);
  });

  it('sanitizes tag values to the ECS tag rules and 256 characters', async () => {
    const { response } = await deliver({ body: webhookBody(`aws:${'x'.repeat(300)}`, { action: 'plan<script>;$(rm)' }) });
    expect(response.statusCode).toBe(202);
    for (const tag of lastRunTask().tags!) {
      expect(tag.value!.length).toBeLessThanOrEqual(256);
      expect(tag.value).toMatch(/^[\p{L}\p{N} +\-=._:/@]+$/u);
      expect(tag.value).not.toMatch(/^aws:/i);
    }
    expect(lastRunTask().tags).toContainEqual({ key: TASK_TAGS.action, value: 'plan_script____rm_' });
  });

  it('takes the key from the body task_id when there is no Idempotency-Key', async () => {
    await deliver({ idempotencyKey: null, body: webhookBody('task-from-body') });
    const first = lastRunTask();
    await deliver({ idempotencyKey: 'task-from-body' });
    expect(first.startedBy).toMatch(/^scalr-[0-9a-f]{30}$/);
    expect(lastRunTask().startedBy).toBe(first.startedBy);
    expect(lastRunTask().clientToken).toBe(first.clientToken);
  });
});

describe('logging', () => {
  it('writes exactly one JSON line per delivery with the ids, outcome, status, ARN and duration', async () => {
    const { lines } = await deliver({ body: webhookBody('task-log', { action: 'apply' }) });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      stack: 'prod',
      taskId: 'task-log',
      runId: 'run-task-log',
      action: 'apply',
      outcome: 'started',
      statusCode: 202,
      taskArn: expect.stringContaining(':task/'),
      duplicate: false,
      durationMs: expect.any(Number),
    });
  });

  it('never logs or answers with a secret an AWS error message echoes back', async () => {
    ecsMock.on(RunTaskCommand).rejects(Object.assign(new Error(`override value ${SECRETS.token} is invalid for ${SECRETS.url}`), { name: 'InvalidParameterException' }));
    const { response, lines } = await deliver({});
    expect(response.statusCode).toBe(502);
    expect(response.body).toContain('[redacted]');
    expect(response.body).not.toContain(SECRETS.token);
    expect(lines.join('\n')).not.toContain(SECRETS.token);
  });

  it('printed nothing, in any case of this file, that holds a token, the API key or a header value', () => {
    expect(captured.length).toBeGreaterThan(20);
    const output = captured.join('\n');
    for (const value of headerValues) {
      if (value === 'application/json') continue; // Content-Type: public, and also our own response type
      expect(output, `a log line holds the header value ${value}`).not.toContain(value);
    }
    expect(output).not.toContain(new URL(SECRETS.url).host);
  });
});
