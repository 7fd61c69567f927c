import { ListTasksCommand, RunTaskCommand, type ECSClient, type RunTaskCommandInput, type Tag } from '@aws-sdk/client-ecs';
import type { HandlerConfig } from './config.js';
import { clientTokenFor, subnetOrder } from './identity.js';

/** Backoff between launch attempts; tests shrink it. */
export interface RetryTiming {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Backoff for throttling and for a full round of subnets without capacity. */
export const DEFAULT_RETRY_TIMING: RetryTiming = { initialDelayMs: 250, maxDelayMs: 2000 };
/** Upper bound on RunTask calls per delivery, so one delivery cannot hammer a throttled account. */
const MAX_LAUNCH_ATTEMPTS = 10;

/** What to launch, and until when trying is worth it (epoch ms, margin already taken off). */
export interface LaunchRequest {
  config: HandlerConfig;
  environment: { name: string; value: string }[];
  tags: Tag[];
  key?: string;
  startedBy?: string;
  deadline: number;
  timing: RetryTiming;
}

/** A started (or already-started) task, or why none started and whether retrying later can help. */
export type LaunchResult =
  | { ok: true; taskArn: string; duplicate: boolean; attempts: number }
  | { ok: false; retryable: boolean; reason: string; attempts: number };

/**
 * The task already started for `startedBy`, if ListTasks shows one. Both RUNNING and STOPPED are
 * asked for, because ListTasks defaults to RUNNING and an agent that already finished its run must
 * not be started again; ECS keeps stopped tasks listed for a while only, which the clientToken
 * window (24 h) outlasts anyway.
 */
export async function findStartedTask(ecs: ECSClient, cluster: string, startedBy: string): Promise<string | undefined> {
  const lists = await Promise.all(
    (['RUNNING', 'STOPPED'] as const).map((desiredStatus) =>
      ecs.send(new ListTasksCommand({ cluster, startedBy, desiredStatus, maxResults: 10 })),
    ),
  );
  return lists.flatMap((list) => list.taskArns ?? [])[0];
}

/**
 * Calls RunTask until a task starts, ECS says no for good, or the time runs out. A capacity
 * failure (reported in `failures` of a successful response, FACTS §5) moves on to the next subnet,
 * i.e. the next AZ, at once; throttling, including ECS's wrapped EC2 throttling
 * (InvalidParameterException "Rate exceeded"), backs off and tries the same subnet again.
 */
export async function launchTask(ecs: ECSClient, request: LaunchRequest): Promise<LaunchResult> {
  const subnets = subnetOrder(request.config.subnets, request.key);
  let delay = request.timing.initialDelayMs;
  let subnetIndex = 0;
  let lastReason = 'no attempt made: the invocation had no time left';
  for (let attempt = 1; attempt <= MAX_LAUNCH_ATTEMPTS; attempt++) {
    if (Date.now() >= request.deadline) return { ok: false, retryable: true, reason: lastReason, attempts: attempt - 1 };
    const subnet = subnets[subnetIndex % subnets.length];
    let backOff = true;
    try {
      const output = await ecs.send(new RunTaskCommand(runTaskInput(request, subnet)));
      const taskArn = output.tasks?.find((task) => task.taskArn)?.taskArn;
      if (taskArn) return { ok: true, taskArn, duplicate: false, attempts: attempt };
      const failure = output.failures?.[0];
      lastReason = `RunTask failed: ${[failure?.reason, failure?.detail].filter(Boolean).join(': ') || 'no task and no failure reason'}`;
      if (!isCapacityFailure(failure?.reason)) return { ok: false, retryable: false, reason: lastReason, attempts: attempt };
      subnetIndex++;
      // Only a full round over every AZ without capacity is worth a pause.
      backOff = subnetIndex % subnets.length === 0;
    } catch (error) {
      const existing = conflictingTask(error);
      if (existing) return { ok: true, taskArn: existing, duplicate: true, attempts: attempt };
      lastReason = `RunTask failed: ${describeError(error)}`;
      if (!isThrottling(error)) return { ok: false, retryable: false, reason: lastReason, attempts: attempt };
    }
    if (attempt === MAX_LAUNCH_ATTEMPTS) break;
    if (backOff) {
      const wait = delay * (0.5 + Math.random() / 2);
      if (Date.now() + wait >= request.deadline) return { ok: false, retryable: true, reason: lastReason, attempts: attempt };
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, request.timing.maxDelayMs);
    }
  }
  return { ok: false, retryable: true, reason: lastReason, attempts: MAX_LAUNCH_ATTEMPTS };
}

function runTaskInput(request: LaunchRequest, subnet: string): RunTaskCommandInput {
  const { config } = request;
  return {
    cluster: config.cluster,
    taskDefinition: config.taskDefinition,
    count: 1,
    // Explicit FARGATE: without it RunTask falls back to the cluster's default strategy, or to EC2
    // ("No Container Instances were found"); moto also ignores capacity provider strategies.
    launchType: 'FARGATE',
    networkConfiguration: {
      // Public subnets without NAT: the agent reaches Scalr and Docker Hub only with a public IP.
      awsvpcConfiguration: { subnets: [subnet], securityGroups: config.securityGroups, assignPublicIp: 'ENABLED' },
    },
    overrides: { containerOverrides: [{ name: config.container, environment: request.environment }] },
    tags: request.tags,
    ...(request.startedBy ? { startedBy: request.startedBy } : {}),
    // Without a key the SDK fills in a random token (an idempotency-token member), which still
    // makes its own network retries of this one call safe.
    ...(request.key ? { clientToken: clientTokenFor(request.key, subnet) } : {}),
  };
}

/** Fargate's capacity failures: "Capacity is unavailable at this time...", RESOURCE:* reasons. */
function isCapacityFailure(reason: string | undefined): boolean {
  return reason !== undefined && /capacity|^RESOURCE:/i.test(reason);
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ThrottledException',
]);

/** Throttling in all the shapes ECS returns it, including EC2's wrapped into InvalidParameterException. */
export function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const retryable = (error as { $retryable?: { throttling?: boolean } }).$retryable;
  if (THROTTLING_NAMES.has(error.name) || retryable?.throttling) return true;
  return error.name === 'InvalidParameterException' && /rate exceeded/i.test(error.message);
}

/**
 * ConflictException: the clientToken is already bound to a RunTask call with other parameters
 * (ECS_Idempotency); `resourceIds` holds the tasks that call started, so the task exists.
 */
function conflictingTask(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== 'ConflictException') return undefined;
  const ids = (error as { resourceIds?: string[] }).resourceIds;
  return Array.isArray(ids) ? ids.find((id) => typeof id === 'string' && id !== '') : undefined;
}

/** `Name: message` of an SDK error, or the string form of anything else. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message && error.message !== error.name ? `${error.name}: ${error.message}` : error.name;
  return String(error);
}
