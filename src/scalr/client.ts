import { request, type Dispatcher } from 'undici';
import { ScalrApiError } from '../errors.js';
import { sleep as abortableSleep } from '../aws/retry.js';
import { errorForNetwork, errorForStatus, networkCode, redact, type RequestPurpose } from './api-errors.js';

export type { RequestPurpose } from './api-errors.js';

/** Where Scalr serves its API on every host (go-scalr's DefaultBasePath). */
export const SCALR_API_BASE_PATH = '/api/iacp/v3/';
/** The JSON:API media type Scalr wants in Accept and, for bodies, in Content-Type. */
export const JSON_API_MEDIA_TYPE = 'application/vnd.api+json';
/** One request, headers and body, gives up after this long. */
export const SCALR_REQUEST_TIMEOUT_MS = 30_000;
/** Tries per request, the first one included. */
export const SCALR_MAX_ATTEMPTS = 5;
/** First backoff delay; doubles per attempt up to SCALR_RETRY_MAX_DELAY_MS. */
export const SCALR_RETRY_INITIAL_DELAY_MS = 1_000;
export const SCALR_RETRY_MAX_DELAY_MS = 16_000;
/** A Retry-After longer than this is cut short: a CLI user should not wait minutes silently. */
export const SCALR_MAX_RETRY_AFTER_MS = 60_000;

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** How to reach Scalr and as whom. */
export interface ScalrClientOptions {
  /** `https://acme.scalr.io` (from resolveScalrCredentials). */
  scalrUrl: string;
  token: string;
  /** Other values that must never appear in an error or a log line (API key, agent token). */
  secrets?: readonly string[];
  /** `scalr-serverless/<version>`. */
  userAgent?: string;
  /** An undici Agent or Pool; the global dispatcher when absent. */
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  maxAttempts?: number;
  /** Replaces the wait between attempts (tests record delays instead of waiting). */
  sleep?: (ms: number) => Promise<void>;
  /** Receives one line per retry; lines never hold a secret. */
  log?: (line: string) => void;
}

/** One API call: path relative to the API base, e.g. `agent-pools/apool-abc123`. */
export interface ScalrRequest {
  method: Method;
  path: string;
  query?: Record<string, string | number>;
  body?: unknown;
  purpose: RequestPurpose;
}

/** Tests shrink every delay with SCALR_SERVERLESS_RETRY_SCALE=0.01, as src/aws/retry.ts does. */
function delayScale(): number {
  const scale = Number(process.env.SCALR_SERVERLESS_RETRY_SCALE);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Math.min(Number(text) * 1000, SCALR_MAX_RETRY_AFTER_MS);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(date - now, 0), SCALR_MAX_RETRY_AFTER_MS);
}

/** POST creates something, so a 5xx or a dropped connection may hide a success: only 429 is safe to repeat. */
function isIdempotent(method: Method): boolean {
  return method !== 'POST';
}

function retryableStatus(status: number, method: Method): boolean {
  if (status === 429) return true; // rejected before any work was done
  return isIdempotent(method) && [500, 502, 503, 504].includes(status);
}

/** Connection refused or an unknown host will not heal in a few seconds; a reset or a timeout may. */
function retryableNetwork(cause: unknown, method: Method): boolean {
  const code = networkCode(cause);
  return isIdempotent(method) && ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'TIMEOUT', 'UND_ERR_SOCKET', 'EAI_AGAIN'].includes(code ?? '');
}

/** A Scalr API client on undici: JSON:API headers, timeouts, bounded retries, errors that say what to do. */
export class ScalrClient {
  readonly scalrUrl: string;
  /** `acme.scalr.io` (with a port when one was given), for messages. */
  readonly host: string;
  private readonly token: string;
  private readonly secrets = new Set<string>();
  private readonly options: ScalrClientOptions;

  constructor(options: ScalrClientOptions) {
    const url = new URL(options.scalrUrl);
    this.scalrUrl = `${url.protocol}//${url.host}`;
    this.host = url.host;
    this.token = options.token;
    this.options = options;
    this.addSecret(options.token);
    for (const secret of options.secrets ?? []) this.addSecret(secret);
  }

  /** Registers a value (a pool token just created) that errors and log lines must mask from now on. */
  addSecret(secret: string | undefined): void {
    if (secret) this.secrets.add(secret);
  }

  /** Sends one request, retrying 429 and transient failures; resolves the parsed JSON body (undefined on 204). */
  async request<T = unknown>(req: ScalrRequest): Promise<T | undefined> {
    const maxAttempts = this.options.maxAttempts ?? SCALR_MAX_ATTEMPTS;
    const secrets = [...this.secrets];
    for (let attempt = 1; ; attempt++) {
      let status: number;
      let retryAfter: string | string[] | undefined;
      let text: string;
      try {
        ({ status, retryAfter, text } = await this.send(req));
      } catch (cause) {
        if (attempt < maxAttempts && retryableNetwork(cause, req.method)) {
          await this.wait(attempt, maxAttempts, undefined, `could not be reached (${networkCode(cause)})`, req.purpose);
          continue;
        }
        throw errorForNetwork(cause, req.purpose, this.host, this.timeoutMs(), secrets);
      }
      const body = parseJson(text);
      if (status >= 200 && status < 300) {
        if (text.trim() === '') return undefined;
        if (body === undefined) {
          throw new ScalrApiError(`${req.purpose.action}: Scalr at ${this.host} answered ${status} with a body that is not JSON`, {
            status,
            hint: 'Check that SCALR_HOSTNAME names a Scalr host and not a proxy or a login page.',
          });
        }
        return body as T;
      }
      if (attempt < maxAttempts && retryableStatus(status, req.method)) {
        const hinted = status === 429 ? parseRetryAfter(retryAfter) : undefined;
        await this.wait(attempt, maxAttempts, hinted, `answered ${status}`, req.purpose);
        continue;
      }
      throw errorForStatus(status, body, req.purpose, this.host, secrets, attempt);
    }
  }

  private timeoutMs(): number {
    return this.options.timeoutMs ?? SCALR_REQUEST_TIMEOUT_MS;
  }

  private async send(req: ScalrRequest): Promise<{ status: number; retryAfter?: string | string[]; text: string }> {
    const url = new URL(SCALR_API_BASE_PATH + req.path, this.scalrUrl);
    for (const [key, value] of Object.entries(req.query ?? {})) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: JSON_API_MEDIA_TYPE,
      'user-agent': this.options.userAgent ?? 'scalr-serverless',
    };
    if (req.body !== undefined) headers['content-type'] = JSON_API_MEDIA_TYPE;
    const timeoutMs = this.timeoutMs();
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await request(url, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        dispatcher: this.options.dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal,
      });
      const text = await response.body.text();
      return { status: response.statusCode, retryAfter: response.headers['retry-after'], text };
    } catch (error) {
      // undici rejects with its own abort error; say "timeout" so the message and the retry see it.
      if (signal.aborted) throw Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' });
      throw error;
    }
  }

  private async wait(attempt: number, maxAttempts: number, hintedMs: number | undefined, reason: string, purpose: RequestPurpose) {
    const backoff = Math.min(SCALR_RETRY_INITIAL_DELAY_MS * 2 ** (attempt - 1), SCALR_RETRY_MAX_DELAY_MS);
    const delay = hintedMs ?? backoff;
    const line = `${this.host} ${reason} while ${purpose.action}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${maxAttempts})`;
    this.options.log?.(redact(line, [...this.secrets]));
    if (this.options.sleep) await this.options.sleep(delay);
    else await abortableSleep(delay * delayScale());
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
