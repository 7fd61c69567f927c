import { hostAllowed } from './config.js';

/** The parts of an API Gateway REST (AWS_PROXY) event the handler reads. */
export interface ProxyEvent {
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, (string | undefined)[] | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

/** The Scalr webhook body (docs.scalr.io serverless webhooks); every field optional here. */
export interface WebhookBody {
  taskId?: string;
  action?: string;
  runId?: string;
  workspaceId?: string;
  environmentId?: string;
}

/** A delivery whose headers passed validation: what the agent needs and what identifies the task. */
export interface Delivery {
  scalrUrl: string;
  scalrToken: string;
  /** Idempotency-Key header, else the body's task_id; undefined when neither came. */
  key?: string;
  body: WebhookBody;
}

/** A rejected delivery: answered without any AWS call. */
export interface Rejection {
  statusCode: 400 | 403;
  error: string;
}

/**
 * Looks a header up case-insensitively in `headers`, then `multiValueHeaders`: API Gateway REST
 * proxy events keep the sender's case, and a header may be present only in the multi-value map.
 */
export function header(event: ProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() !== wanted || !Array.isArray(values)) continue;
    const first = values.find((value): value is string => typeof value === 'string');
    if (first !== undefined) return first;
  }
  return undefined;
}

/** Decodes and parses the body; a missing or malformed body yields `{}` (it must not block a launch). */
export function parseBody(event: ProxyEvent): WebhookBody {
  if (typeof event.body !== 'string' || event.body === '') return {};
  let parsed: unknown;
  try {
    const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const record = parsed as Record<string, unknown>;
  const field = (name: string) => {
    const value = record[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    return undefined;
  };
  return {
    taskId: field('task_id'),
    action: field('action'),
    runId: field('run_id'),
    workspaceId: field('workspace_id'),
    environmentId: field('environment_id'),
  };
}

/** Validates the headers before any AWS call; returns the delivery or why it is rejected. */
export function readDelivery(event: ProxyEvent, allowedHosts: string[]): Delivery | Rejection {
  const scalrToken = header(event, 'X-Scalr-Token')?.trim() ?? '';
  if (scalrToken === '') return { statusCode: 400, error: 'missing or empty X-Scalr-Token header' };
  const scalrUrl = header(event, 'X-Scalr-Url')?.trim() ?? '';
  if (scalrUrl === '') return { statusCode: 400, error: 'missing X-Scalr-Url header' };
  let url: URL;
  try {
    url = new URL(scalrUrl);
  } catch {
    return { statusCode: 400, error: 'X-Scalr-Url is not an absolute URL' };
  }
  if (url.protocol !== 'https:') return { statusCode: 400, error: 'X-Scalr-Url must use https' };
  if (url.hostname === '') return { statusCode: 400, error: 'X-Scalr-Url has no host' };
  // The reason names no host: it is a header value, and reasons are logged.
  if (!hostAllowed(url.hostname, allowedHosts)) {
    return { statusCode: 403, error: 'X-Scalr-Url host is not in the allowed Scalr hosts' };
  }
  const body = parseBody(event);
  const key = header(event, 'Idempotency-Key')?.trim() || body.taskId;
  return { scalrUrl, scalrToken, key, body };
}

/** Narrows a readDelivery result. */
export function isRejection(result: Delivery | Rejection): result is Rejection {
  return 'statusCode' in result;
}
