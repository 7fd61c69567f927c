import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/** One request the fake received, for assertions (the Authorization header included). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
}

/** A webhook header as stored; sensitive values are kept here but read back as "". */
export interface StoredHeader {
  name: string;
  value: string;
  sensitive: boolean;
}

/** A pool as the fake stores it. */
export interface FakePool {
  id: string;
  name: string;
  webhookEnabled: boolean;
  webhookUrl: string | null;
  webhookHeaders: StoredHeader[];
}

/** A pool access token; `token` is the secret, shown only in the create response. */
export interface FakeToken {
  id: string;
  poolId: string;
  description: string;
  token: string;
}

/** Behaviour switches tests flip. */
export interface FakeScalrOptions {
  /** Tokens the fake accepts as `Authorization: Bearer <token>`. */
  tokens?: string[];
  /** Reject `webhook-url: null` with 422, as a stricter schema would. */
  rejectNullWebhookUrl?: boolean;
  /** Wait this long before answering anything (timeout tests). */
  delayMs?: number;
}

/** A running fake Scalr API on 127.0.0.1. */
export interface FakeScalr {
  url: string;
  hostname: string;
  token: string;
  requests: RecordedRequest[];
  pools: Map<string, FakePool>;
  tokens: Map<string, FakeToken>;
  /** Every token value the fake handed out since the last reset, deleted ones too (tests check none leaks). */
  issuedTokens: string[];
  options: FakeScalrOptions;
  /** Answer the next `count` requests with `status` (429 carries Retry-After: `retryAfter`). */
  failNext(count: number, status: number, retryAfter?: string): void;
  /** Answer the next request matching `method` and a path starting with `pathPrefix` (under the API base) with this error. */
  failOn(method: string, pathPrefix: string, status: number, detail: string, pointer?: string): void;
  /** Make every write (POST, PATCH, DELETE) answer 403, as for a token without agent-pools:update. */
  denyWrites(deny: boolean): void;
  addPool(name: string, attrs?: Partial<Omit<FakePool, 'id' | 'name'>>): FakePool;
  tokensOf(poolId: string): FakeToken[];
  /** Forgets pools, tokens, recorded requests, pending failures and switches. */
  reset(): void;
  close(): Promise<void>;
}

const MEDIA = 'application/vnd.api+json';
const BASE = '/api/iacp/v3/';

const randomId = (prefix: string) => `${prefix}-${randomBytes(8).toString('hex').replace(/[^a-z0-9]/g, '')}`;

function errorDoc(status: number, title: string, detail: string, pointer?: string) {
  return { errors: [{ status: String(status), title, detail, ...(pointer ? { source: { pointer } } : {}) }] };
}

function poolResource(pool: FakePool) {
  return {
    type: 'agent-pools',
    id: pool.id,
    attributes: {
      name: pool.name,
      'vcs-enabled': false,
      'is-shared': false,
      'webhook-enabled': pool.webhookEnabled,
      'webhook-url': pool.webhookUrl,
      // Documented Scalr behaviour: a sensitive header's value reads back as "".
      'webhook-headers': pool.webhookHeaders.map((h) => ({ ...h, value: h.sensitive ? '' : h.value })),
    },
  };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Starts the fake on a free loopback port. */
export async function startFakeScalr(options: FakeScalrOptions = {}): Promise<FakeScalr> {
  const tokens = options.tokens ?? [`acct-${randomBytes(12).toString('hex')}`];
  const requests: RecordedRequest[] = [];
  const pools = new Map<string, FakePool>();
  const accessTokens = new Map<string, FakeToken>();
  const issuedTokens: string[] = [];
  const failures: Array<{ status: number; retryAfter?: string }> = [];
  let writesDenied = false;
  const targeted: Array<{ method: string; pathPrefix: string; status: number; detail: string; pointer?: string }> = [];

  const send = (res: ServerResponse, status: number, doc?: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, doc === undefined ? headers : { 'content-type': MEDIA, ...headers });
    res.end(doc === undefined ? undefined : JSON.stringify(doc));
  };

  function validatePatch(pool: FakePool, attrs: Record<string, unknown>): ReturnType<typeof errorDoc> | undefined {
    const enabled = 'webhook-enabled' in attrs ? attrs['webhook-enabled'] : pool.webhookEnabled;
    if (typeof enabled !== 'boolean') return errorDoc(422, 'Invalid Attribute', 'webhook-enabled must be a boolean', '/data/attributes/webhook-enabled');
    if ('webhook-url' in attrs) {
      const url = attrs['webhook-url'];
      if (url === null && options.rejectNullWebhookUrl) {
        return errorDoc(422, 'Invalid Attribute', 'webhook-url must be a string', '/data/attributes/webhook-url');
      }
      if (url !== null && typeof url !== 'string') return errorDoc(422, 'Invalid Attribute', 'webhook-url must be a string', '/data/attributes/webhook-url');
    }
    const url = 'webhook-url' in attrs ? attrs['webhook-url'] : pool.webhookUrl;
    if (enabled && !isHttpUrl(url)) {
      return errorDoc(422, 'Invalid Attribute', 'webhook-url must be a valid URL when the webhook is enabled', '/data/attributes/webhook-url');
    }
    if ('webhook-headers' in attrs) {
      const headers = attrs['webhook-headers'];
      const valid = Array.isArray(headers) && headers.every((h) =>
        h && typeof h.name === 'string' && h.name !== '' && typeof h.value === 'string' && typeof h.sensitive === 'boolean');
      if (!valid) return errorDoc(422, 'Invalid Attribute', 'webhook-headers must be a list of {name, value, sensitive}', '/data/attributes/webhook-headers');
    }
    return undefined;
  }

  function route(req: RecordedRequest, res: ServerResponse) {
    const parts = req.path.slice(BASE.length).split('/').filter(Boolean);
    const body = req.body as { data?: { type?: string; id?: string; attributes?: Record<string, unknown> } } | undefined;
    if (req.method !== 'GET' && writesDenied) {
      return send(res, 403, errorDoc(403, 'Forbidden', 'You do not have permission to perform this action'));
    }
    if (parts[0] === 'agent-pools' && parts.length === 1) {
      if (req.method === 'GET') {
        let list = [...pools.values()];
        if (req.query['filter[name]']) list = list.filter((p) => p.name === req.query['filter[name]']);
        const size = Math.min(Number(req.query['page[size]'] ?? 10) || 10, 100);
        const number = Math.max(Number(req.query['page[number]'] ?? 1) || 1, 1);
        const totalPages = Math.max(Math.ceil(list.length / size), 1);
        const data = list.slice((number - 1) * size, number * size).map(poolResource);
        const pagination = {
          'current-page': number,
          'prev-page': number > 1 ? number - 1 : null,
          'next-page': number < totalPages ? number + 1 : null,
          'total-pages': totalPages,
          'total-count': list.length,
        };
        return send(res, 200, { data, meta: { pagination } });
      }
      if (req.method === 'POST') {
        const name = body?.data?.attributes?.name;
        if (body?.data?.type !== 'agent-pools') return send(res, 422, errorDoc(422, 'Invalid Type', 'data.type must be agent-pools', '/data/type'));
        if (typeof name !== 'string' || name.trim() === '') return send(res, 422, errorDoc(422, 'Invalid Attribute', 'name is required', '/data/attributes/name'));
        const pool = api.addPool(name);
        return send(res, 201, { data: poolResource(pool) });
      }
    }
    if (parts[0] === 'agent-pools' && parts.length >= 2) {
      const pool = pools.get(parts[1]);
      if (!pool) return send(res, 404, errorDoc(404, 'Not Found', `Agent pool with ID '${parts[1]}' not found or user unauthorized`));
      if (parts.length === 2 && req.method === 'GET') return send(res, 200, { data: poolResource(pool) });
      if (parts.length === 2 && req.method === 'DELETE') {
        pools.delete(pool.id);
        for (const t of api.tokensOf(pool.id)) accessTokens.delete(t.id);
        return send(res, 204);
      }
      if (parts.length === 2 && req.method === 'PATCH') {
        if (body?.data?.type !== 'agent-pools' || body.data.id !== pool.id) {
          return send(res, 409, errorDoc(409, 'Conflict', 'data.type and data.id must match the URL'));
        }
        const attrs = body.data.attributes ?? {};
        const invalid = validatePatch(pool, attrs);
        if (invalid) return send(res, 422, invalid);
        if ('webhook-enabled' in attrs) pool.webhookEnabled = attrs['webhook-enabled'] as boolean;
        if ('webhook-url' in attrs) pool.webhookUrl = attrs['webhook-url'] as string | null;
        if ('webhook-headers' in attrs) pool.webhookHeaders = (attrs['webhook-headers'] as StoredHeader[]).map((h) => ({ ...h }));
        if (typeof attrs.name === 'string') pool.name = attrs.name;
        return send(res, 200, { data: poolResource(pool) });
      }
      if (parts.length === 3 && parts[2] === 'access-tokens') {
        if (req.method === 'GET') {
          const data = api.tokensOf(pool.id).map((t) => ({ type: 'access-tokens', id: t.id, attributes: { description: t.description } }));
          return send(res, 200, { data, meta: { pagination: { 'current-page': 1, 'next-page': null, 'total-pages': 1, 'total-count': data.length } } });
        }
        if (req.method === 'POST') {
          if (body?.data?.type !== 'access-tokens') return send(res, 422, errorDoc(422, 'Invalid Type', 'data.type must be access-tokens', '/data/type'));
          const token: FakeToken = {
            id: randomId('at'),
            poolId: pool.id,
            description: String(body.data.attributes?.description ?? ''),
            token: `pooltok-${randomBytes(16).toString('hex')}`,
          };
          accessTokens.set(token.id, token);
          issuedTokens.push(token.token);
          return send(res, 201, { data: { type: 'access-tokens', id: token.id, attributes: { description: token.description, token: token.token } } });
        }
      }
    }
    if (parts[0] === 'access-tokens' && parts.length === 2 && req.method === 'DELETE') {
      if (!accessTokens.delete(parts[1])) return send(res, 404, errorDoc(404, 'Not Found', `Access token '${parts[1]}' not found`));
      return send(res, 204);
    }
    return send(res, 404, errorDoc(404, 'Not Found', `no route for ${req.method} ${req.path}`));
  }

  async function handle(incoming: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(incoming.url ?? '/', 'http://fake');
    const headers = Object.fromEntries(Object.entries(incoming.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']));
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const recorded: RecordedRequest = { method: incoming.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body };
    requests.push(recorded);
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    const failure = failures.shift();
    if (failure) {
      const extra: Record<string, string> = failure.retryAfter !== undefined ? { 'retry-after': failure.retryAfter } : {};
      return send(res, failure.status, errorDoc(failure.status, failure.status === 429 ? 'Too Many Requests' : 'Internal Server Error', 'injected by the test'), extra);
    }
    const auth = headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !tokens.includes(auth.slice('Bearer '.length))) {
      return send(res, 401, errorDoc(401, 'Unauthorized', 'Authentication credentials were not provided or are invalid'));
    }
    // JSON:API section "Server Responsibilities": 406 for an Accept without the media type, 415 for a wrong Content-Type.
    if (!(headers.accept ?? '').includes(MEDIA)) return send(res, 406, errorDoc(406, 'Not Acceptable', `Accept must include ${MEDIA}`));
    if (text && headers['content-type'] !== MEDIA) return send(res, 415, errorDoc(415, 'Unsupported Media Type', `Content-Type must be ${MEDIA}`));
    if (!url.pathname.startsWith(BASE)) return send(res, 404, errorDoc(404, 'Not Found', 'unknown path'));
    const hit = targeted.findIndex((t) => t.method === recorded.method && url.pathname.startsWith(BASE + t.pathPrefix));
    if (hit >= 0) {
      const [t] = targeted.splice(hit, 1);
      return send(res, t.status, errorDoc(t.status, t.status === 422 ? 'Invalid Attribute' : 'Error', t.detail, t.pointer));
    }
    route(recorded, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => send(res, 500, errorDoc(500, 'Fake failure', String(error))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const api: FakeScalr = {
    url: `http://127.0.0.1:${port}`,
    hostname: `127.0.0.1:${port}`,
    token: tokens[0],
    requests,
    pools,
    tokens: accessTokens,
    issuedTokens,
    options,
    failNext(count, status, retryAfter) {
      for (let i = 0; i < count; i++) failures.push({ status, retryAfter });
    },
    failOn(method, pathPrefix, status, detail, pointer) {
      targeted.push({ method, pathPrefix, status, detail, pointer });
    },
    denyWrites(deny) {
      writesDenied = deny;
    },
    addPool(name, attrs = {}) {
      const pool: FakePool = { id: randomId('apool'), name, webhookEnabled: false, webhookUrl: null, webhookHeaders: [], ...attrs };
      pools.set(pool.id, pool);
      return pool;
    },
    tokensOf(poolId) {
      return [...accessTokens.values()].filter((t) => t.poolId === poolId);
    },
    reset() {
      requests.length = 0;
      pools.clear();
      accessTokens.clear();
      issuedTokens.length = 0;
      failures.length = 0;
      targeted.length = 0;
      writesDenied = false;
      options.rejectNullWebhookUrl = false;
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
  return api;
}
