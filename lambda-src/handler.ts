import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ConfigResult } from './config.js';
import { startedByFor, taskTags } from './identity.js';
import { DEFAULT_RETRY_TIMING, findStartedTask, launchTask, type LaunchResult, type RetryTiming } from './launch.js';
import { isRejection, readDelivery, type Delivery, type ProxyEvent } from './request.js';

/** The API Gateway proxy answer. */
export interface ProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The part of the Lambda context the handler uses. */
export interface InvocationContext {
  getRemainingTimeInMillis?: () => number;
}

/** The one log line of a delivery. Holds ids and outcomes only: never a header, token or key. */
export interface DeliveryLog {
  stack?: string;
  taskId?: string;
  runId?: string;
  action?: string;
  outcome: 'started' | 'duplicate' | 'rejected' | 'failed' | 'misconfigured';
  statusCode: number;
  taskArn?: string;
  reason?: string;
  duplicate: boolean;
  /** How duplicates are caught: `startedBy+clientToken`, or `none` when the delivery had no key. */
  dedupe: 'startedBy+clientToken' | 'none';
  /** Set when the ListTasks look-up failed and the launch relied on the clientToken alone. */
  lookupFailed?: boolean;
  attempts: number;
  durationMs: number;
}

/** What the handler is made of; index.ts wires the module-scope client and the parsed env. */
export interface HandlerDeps {
  ecs: ECSClient;
  config: ConfigResult;
  timing?: RetryTiming;
  log?: (line: DeliveryLog) => void;
}

/** Time kept back from the invocation's remaining time, for answering and logging after the last try. */
export const SAFETY_MARGIN_MS = 3000;
/** The budget when no Lambda context is given (the deployed function has a 30 s timeout). */
const DEFAULT_BUDGET_MS = 25_000;

/** A webhook handler: validates, de-duplicates, starts one Fargate task, answers and logs once. */
export function createHandler(deps: HandlerDeps) {
  const timing = deps.timing ?? DEFAULT_RETRY_TIMING;
  const log = deps.log ?? ((line: DeliveryLog) => console.log(JSON.stringify(line)));
  return async function handler(event: ProxyEvent, context?: InvocationContext): Promise<ProxyResult> {
    const started = Date.now();
    const deadline = started + (context?.getRemainingTimeInMillis?.() ?? DEFAULT_BUDGET_MS) - SAFETY_MARGIN_MS;
    let entry: Omit<DeliveryLog, 'durationMs'>;
    try {
      const [outcome, secrets] = await handle(deps, timing, event ?? {}, deadline);
      entry = { ...outcome, reason: redact(outcome.reason, secrets) };
    } catch (error) {
      // Not expected (every AWS failure is handled in handle()); still a failure, never a 2xx.
      // Only the error's name: its message could hold a value this catch cannot redact.
      const name = error instanceof Error ? error.name : typeof error;
      entry = { outcome: 'failed', statusCode: 502, reason: `internal error: ${name}`, duplicate: false, dedupe: 'none', attempts: 0 };
    }
    log({ ...entry, durationMs: Date.now() - started });
    const body = entry.taskArn ? { taskArn: entry.taskArn, duplicate: entry.duplicate } : { error: entry.reason };
    return { statusCode: entry.statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  };
}

type Outcome = Omit<DeliveryLog, 'durationMs'>;

async function handle(
  deps: HandlerDeps,
  timing: RetryTiming,
  event: ProxyEvent,
  deadline: number,
): Promise<[Outcome, string[]]> {
  if (!deps.config.ok) {
    const error = deps.config.error;
    return [{ outcome: 'misconfigured', statusCode: 500, reason: error, duplicate: false, dedupe: 'none', attempts: 0 }, []];
  }
  const config = deps.config.config;
  const delivery = readDelivery(event, config.allowedHosts);
  if (isRejection(delivery)) {
    const base = { stack: config.stack, duplicate: false, dedupe: 'none' as const, attempts: 0 };
    return [{ ...base, outcome: 'rejected', statusCode: delivery.statusCode, reason: delivery.error }, []];
  }
  const secrets = [delivery.scalrToken, delivery.scalrUrl];
  const ids = { stack: config.stack, taskId: delivery.body.taskId, runId: delivery.body.runId, action: delivery.body.action };
  const dedupe = delivery.key ? ('startedBy+clientToken' as const) : ('none' as const);
  const startedBy = delivery.key ? startedByFor(delivery.key) : undefined;

  // The look-up catches every duplicate that arrives after the first launch is visible in
  // ListTasks, including ones past the clientToken window and all of them against moto.
  let lookupFailed: true | undefined;
  if (startedBy) {
    try {
      const existing = await findStartedTask(deps.ecs, config.cluster, startedBy);
      if (existing) {
        return [{ ...ids, outcome: 'duplicate', statusCode: 200, taskArn: existing, duplicate: true, dedupe, attempts: 0 }, secrets];
      }
    } catch {
      // Launch anyway: within its window the clientToken still de-duplicates, and refusing would
      // drop a run because of a read; the log line says the look-up failed.
      lookupFailed = true;
    }
  }

  const result: LaunchResult = await launchTask(deps.ecs, {
    config,
    environment: agentEnvironment(delivery),
    tags: taskTags(delivery.body, config.stack),
    key: delivery.key,
    startedBy,
    deadline,
    timing,
  });
  const common = { ...ids, dedupe, lookupFailed, attempts: result.attempts };
  if (result.ok) {
    const statusCode = result.duplicate ? 200 : 202;
    const outcome = result.duplicate ? 'duplicate' : 'started';
    return [{ ...common, outcome, statusCode, taskArn: result.taskArn, duplicate: result.duplicate }, secrets];
  }
  // 503 tells Scalr (and anyone reading) that a later retry may well succeed; 502 that ECS refused.
  const statusCode = result.retryable ? 503 : 502;
  return [{ ...common, outcome: 'failed', statusCode, reason: result.reason, duplicate: false }, secrets];
}

/**
 * The agent's settings. Scalr's serverless modules set SCALR_URL and SCALR_TOKEN; Scalr's agent
 * configuration docs name the token SCALR_AGENT_TOKEN (FACTS §2, both prefixes accepted is an
 * inference). The token goes under both names so the agent finds it whichever it reads; a
 * variable it does not read costs nothing. SCALR_SINGLE/SCALR_DRIVER are fixed, so they live in
 * the task definition, not here.
 */
function agentEnvironment(delivery: Delivery): { name: string; value: string }[] {
  return [
    { name: 'SCALR_URL', value: delivery.scalrUrl },
    { name: 'SCALR_TOKEN', value: delivery.scalrToken },
    { name: 'SCALR_AGENT_TOKEN', value: delivery.scalrToken },
  ];
}

/** Removes any secret an AWS error message might echo back (e.g. a rejected override value). */
function redact(text: string | undefined, secrets: string[]): string | undefined {
  if (text === undefined) return undefined;
  return secrets.filter((secret) => secret.length >= 4).reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}
