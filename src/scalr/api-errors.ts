import { ScalrApiError } from '../errors.js';

/** What a request was for, so an error can say what failed and what to do. */
export interface RequestPurpose {
  /** Lower-case phrase for the message: `updating agent pool apool-abc123`. */
  action: string;
  /** The thing a 404 is about: `agent pool apool-abc123`. */
  resource?: string;
  /** The Scalr permission a 403 is about: `agent-pools:update`. */
  permission?: string;
}

/** One entry of a JSON:API error document (`{"errors":[{status,title,detail,source}]}`). */
interface JsonApiError {
  status?: string;
  title?: string;
  detail?: string;
  code?: string;
  source?: { pointer?: string };
}

const REDACTED = '***';
/** Scalr error text is short; anything longer is a proxy's HTML page, not worth printing whole. */
const MAX_DETAIL_CHARS = 300;

/**
 * Replaces every secret with `***`. Applied to every message we build, even though none is built
 * from headers or bodies we sent: Scalr's `detail` may echo a value back, and a message that can
 * never hold a secret is cheaper than proving it for each path.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short "secrets" would blank out ordinary words; real tokens and keys are long.
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** The first JSON:API error of a response body, if the body is one. */
export function firstJsonApiError(body: unknown): JsonApiError | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const errors = (body as { errors?: unknown }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const first = errors[0];
  return first && typeof first === 'object' ? (first as JsonApiError) : undefined;
}

function scalrText(body: unknown): string {
  const error = firstJsonApiError(body);
  if (!error) return '';
  const parts = [error.title, error.detail].filter((p): p is string => typeof p === 'string' && p !== '');
  // Title and detail often repeat each other ("Not Found" / "Not found").
  const unique = parts.filter((p, i) => parts.findIndex((q) => q.toLowerCase() === p.toLowerCase()) === i);
  const text = unique.join(': ');
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}...` : text;
}

/** Turns a final (not retried) HTTP error status into an error that says what to do. */
export function errorForStatus(
  status: number,
  body: unknown,
  purpose: RequestPurpose,
  host: string,
  secrets: readonly string[],
  attempts: number,
): ScalrApiError {
  const detail = scalrText(body);
  const make = (message: string, hint?: string) =>
    new ScalrApiError(redact(`${purpose.action}: ${message}`, secrets), {
      status,
      hint: hint === undefined ? undefined : redact(hint, secrets),
    });
  switch (status) {
    case 401:
      return make(
        `Scalr rejected the token (401): check SCALR_TOKEN`,
        `Create an API token in Scalr (user settings or a service account) for ${host} and export it as SCALR_TOKEN.`,
      );
    case 403:
      return make(
        `the token lacks permission (${purpose.permission ?? 'agent-pools:update'}) on ${host} (403)`,
        'Use a token of a user or service account whose role grants agent-pools:read, agent-pools:create and agent-pools:update on the account.',
      );
    case 404:
      return make(
        `${purpose.resource ?? 'the resource'} not found on ${host}, or the token cannot see it (404)`,
        'Check the pool id (Account > Agent pools in Scalr) and that SCALR_HOSTNAME names the account the pool belongs to.',
      );
    case 422: {
      const pointer = firstJsonApiError(body)?.source?.pointer;
      const where = pointer ? ` (at ${pointer})` : '';
      return make(`Scalr rejected the request (422): ${detail || 'invalid attributes'}${where}`);
    }
    case 429:
      return make(
        `Scalr kept rate-limiting the requests (429) after ${attempts} attempts`,
        'Wait a minute and run the command again.',
      );
    default: {
      const tried = attempts > 1 ? ` after ${attempts} attempts` : '';
      const text = detail ? `: ${detail}` : '';
      const hint = status >= 500 ? `Scalr at ${host} had trouble answering; try again in a few minutes.` : undefined;
      return make(`Scalr answered ${status}${tried}${text}`, hint);
    }
  }
}

/** An error for a request that never got an answer: the host is unreachable, or too slow. */
export function errorForNetwork(
  cause: unknown,
  purpose: RequestPurpose,
  host: string,
  timeoutMs: number,
  secrets: readonly string[],
): ScalrApiError {
  const code = networkCode(cause);
  if (code === 'TIMEOUT') {
    return new ScalrApiError(
      redact(`${purpose.action}: ${host} did not answer within ${formatDuration(timeoutMs)}`, secrets),
      { hint: 'Check your network, or whether the Scalr host is up.', cause },
    );
  }
  const dns = code === 'ENOTFOUND' || code === 'EAI_AGAIN';
  return new ScalrApiError(redact(`${purpose.action}: could not reach ${host} (${code ?? 'network error'})`, secrets), {
    hint: dns
      ? 'Check the host name in --scalr-hostname or SCALR_HOSTNAME (for example acme.scalr.io).'
      : 'Check the host in --scalr-hostname or SCALR_HOSTNAME, your network and any proxy.',
    cause,
  });
}

function formatDuration(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

/** The errno-style code of a network failure (`ECONNREFUSED`, `ENOTFOUND`), `TIMEOUT` for our own timeout. */
export function networkCode(cause: unknown): string | undefined {
  if (!cause || typeof cause !== 'object') return undefined;
  const error = cause as { name?: string; code?: string; cause?: unknown };
  if (error.name === 'TimeoutError' || error.code === 'UND_ERR_HEADERS_TIMEOUT' || error.code === 'UND_ERR_BODY_TIMEOUT') {
    return 'TIMEOUT';
  }
  if (typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code)) return error.code;
  return error.cause ? networkCode(error.cause) : error.code;
}
