import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  identifyCall,
  renderError,
  serverFault,
  throttlingError,
  type AwsCallId,
  type AwsErrorSpec,
} from './aws-actions.js';

/** One call that went through the proxy, in the order its answer was ready. */
export interface ProxyCall {
  service: string;
  action: string;
  write: boolean;
  status: number;
  /** Epoch milliseconds when the request arrived. */
  startedAt: number;
  durationMs: number;
  /** True when a fault rule answered instead of moto. */
  injected: boolean;
}

/** Which calls a fault rule answers: every given field must match; `times` limits it to the first k matches. */
export interface FaultMatch {
  service?: string;
  action?: string | RegExp;
  times?: number;
}

/** A fixed error, or one chosen per call (e.g. to fit the call's service). */
export type FaultResponse = AwsErrorSpec | ((call: AwsCallId) => AwsErrorSpec);

/** A hook run after a forwarded write's response arrived and before it is relayed. */
export type WriteHook = (call: ProxyCall) => void | Promise<void>;

/** A running proxy in front of moto; point the CLI's AWS_ENDPOINT_URL at `url`. */
export interface FaultProxy {
  url: string;
  port: number;
  /** Delay added to every call before it is answered, in milliseconds. */
  latencyMs: number;
  /** Every call answered so far. */
  calls(): ProxyCall[];
  /** Forgets calls, fault rules and write hooks, and restores the starting latency. */
  reset(): void;
  /** Answers matching calls with an error in the service's protocol shape instead of forwarding them. */
  fail(match: FaultMatch, response: FaultResponse): void;
  /** Answers the first `times` matching calls with the service's own throttling error. */
  throttle(match: FaultMatch, times?: number): void;
  /** Answers the first `times` matching calls with a 500. */
  serverError(match: FaultMatch, times?: number): void;
  /** Answers the first `times` matching calls with EC2's 400 DependencyViolation. */
  dependencyViolation(match: FaultMatch, times?: number): void;
  /** Runs `hook` after the n-th write (counted from now) forwarded to moto got its response, before relaying it. */
  onWrite(n: number, hook: WriteHook): void;
  /** SIGKILLs `pid` once the n-th write from now is done in moto but not yet answered; resolves with that call. */
  killAfterWrite(n: number, pid: number): Promise<ProxyCall>;
  close(): Promise<void>;
}

/** Options of `startFaultProxy`. */
export interface FaultProxyOptions {
  /** moto's endpoint, e.g. http://127.0.0.1:5000. */
  target: string;
  latencyMs?: number;
}

type Rule = { match: FaultMatch; response: FaultResponse; remaining: number };
type Hook = { atWrite: number; hook: WriteHook };
type Upstream = { status: number; headers: Record<string, string | string[]>; body: Buffer };

// Hop-by-hop headers are not forwarded; bodies are buffered, so lengths are recomputed.
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'expect', 'upgrade']);

/** Starts the proxy on a free loopback port. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true });
  let calls: ProxyCall[] = [];
  let rules: Rule[] = [];
  let hooks: Hook[] = [];
  let writesForwarded = 0;

  const proxy: FaultProxy = {
    url: '',
    port: 0,
    latencyMs: options.latencyMs ?? 0,
    calls: () => [...calls],
    reset() {
      calls = [];
      rules = [];
      hooks = [];
      proxy.latencyMs = options.latencyMs ?? 0;
    },
    fail(match, response) {
      rules.push({ match, response, remaining: match.times ?? Number.POSITIVE_INFINITY });
    },
    throttle(match, times) {
      proxy.fail({ ...match, times: times ?? match.times }, (call) => throttlingError(call.service));
    },
    serverError(match, times) {
      proxy.fail({ ...match, times: times ?? match.times }, (call) => serverFault(call.service));
    },
    dependencyViolation(match, times) {
      proxy.fail(
        { ...match, times: times ?? match.times },
        { status: 400, code: 'DependencyViolation', message: 'resource has a dependent object' },
      );
    },
    onWrite(n, hook) {
      hooks.push({ atWrite: writesForwarded + n, hook });
    },
    killAfterWrite(n, pid) {
      return new Promise((resolve) => {
        proxy.onWrite(n, (call) => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone: the test still learns which write was the n-th
          }
          resolve(call);
        });
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const body = await readAll(req);
    const id = identifyCall(method, url, req.headers, body);
    if (proxy.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, proxy.latencyMs));
    const record = (status: number, injected: boolean): ProxyCall => {
      const call = { service: id.service, action: id.action, write: id.write, status, startedAt, durationMs: Date.now() - startedAt, injected };
      calls.push(call);
      return call;
    };

    const rule = rules.find((r) => r.remaining > 0 && matches(r.match, id));
    if (rule) {
      rule.remaining -= 1;
      const error = typeof rule.response === 'function' ? rule.response(id) : rule.response;
      const rendered = renderError(id.protocol, error, randomUUID());
      record(error.status, true);
      res.writeHead(error.status, { ...rendered.headers, 'content-length': Buffer.byteLength(rendered.body) });
      res.end(rendered.body);
      return;
    }

    let upstream: Upstream;
    try {
      upstream = await forward(target, agent, method, url, req.headers, body);
    } catch (error) {
      record(502, true);
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault proxy: cannot reach ${target.origin}: ${(error as Error).message}`);
      return;
    }
    const call = record(upstream.status, false);
    if (call.write) {
      writesForwarded += 1;
      const due = hooks.filter((h) => h.atWrite === writesForwarded);
      hooks = hooks.filter((h) => h.atWrite !== writesForwarded);
      for (const { hook } of due) await hook(call);
    }
    if (res.destroyed || req.socket.destroyed) return;
    res.writeHead(upstream.status, { ...upstream.headers, 'content-length': upstream.body.length });
    res.end(upstream.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fault proxy bug: ${(error as Error).stack ?? String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}

function matches(match: FaultMatch, id: AwsCallId): boolean {
  if (match.service !== undefined && match.service !== id.service) return false;
  if (match.action === undefined) return true;
  return typeof match.action === 'string' ? match.action === id.action : match.action.test(id.action);
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function forward(
  target: URL,
  agent: Agent,
  method: string,
  url: string,
  incoming: IncomingMessage['headers'],
  body: Buffer,
): Promise<Upstream> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
  }
  if (body.length > 0 || method !== 'GET') headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: target.hostname, port: target.port, method, path: url, headers, agent },
      (response) => {
        readAll(response).then((responseBody) => {
          const relayed: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined && !HOP_HEADERS.has(name)) relayed[name] = value;
          }
          resolve({ status: response.statusCode ?? 502, headers: relayed, body: responseBody });
        }, reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
