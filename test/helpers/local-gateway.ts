import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { HandlerHost, type InvokeOutcome } from './local-gateway-handler.js';
import { isRefusal, resolveRoute, type Refusal, type Route } from './local-gateway-wiring.js';

/** API Gateway's hard limit on an integration's answer. */
const INTEGRATION_TIMEOUT_MS = 29_000;

/** Options of `startLocalGateway`. */
export interface LocalGatewayOptions {
  /** moto's endpoint; the gateway reads the wiring there and the handler's SDK calls go there. */
  motoEndpoint: string;
  restApiId: string;
  region?: string;
  /** The package zip the function was deployed from; checked against the deployed CodeSha256. */
  zipPath?: string;
  /** AWS_ENDPOINT_URL for the handler when it should not talk to moto directly (e.g. a fault proxy). */
  handlerEndpoint?: string;
}

/** A refusal the gateway answered, with the request it refused. */
export interface GatewayRefusal extends Refusal {
  method: string;
  path: string;
}

/** A running stand-in for one REST API's execute-api endpoint. */
export interface LocalGateway {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The invoke URL of `path` on `stage`, as API Gateway builds it. */
  webhookUrlFor(stage: string, path: string): string;
  /** Every line the handler process wrote: its "CloudWatch log". */
  logs(): string[];
  /** Every request the gateway refused and why, to tell refusals with the same answer apart. */
  refusals(): GatewayRefusal[];
  close(): Promise<void>;
}

/**
 * Starts a local API Gateway for `restApiId`: on each request it checks the live wiring in moto as
 * API Gateway would (moto stores API Gateway config but never executes it, and ignores API keys),
 * then runs the function's real deployed code in a warm child process.
 */
export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const region = options.region ?? 'us-east-1';
  const clientConfig = {
    region,
    endpoint: options.motoEndpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  const apigateway = new APIGatewayClient(clientConfig);
  const lambda = new LambdaClient(clientConfig);
  const logLines: string[] = [];
  const refused: GatewayRefusal[] = [];
  const host = new HandlerHost({
    lambda,
    region,
    handlerEndpoint: options.handlerEndpoint ?? options.motoEndpoint,
    zipPath: options.zipPath,
    onLog: (line) => logLines.push(line),
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, stage = '', ...rest] = url.pathname.split('/');
    const path = `/${rest.join('/')}`;
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const answer = (status: number, headers: Record<string, string>, payload: string | Buffer) => {
      // API Gateway defaults the content type to application/json when the integration sets none.
      const typed = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
      res.writeHead(status, { ...(typed ? {} : { 'content-type': 'application/json' }), 'x-amzn-requestid': requestId, ...headers });
      res.end(payload);
    };
    const refuse = (refusal: Refusal) => {
      refused.push({ ...refusal, method, path: url.pathname });
      answer(refusal.status, {}, JSON.stringify({ message: refusal.message }));
    };

    const route = await resolveRoute(apigateway, lambda, {
      restApiId: options.restApiId,
      region,
      stage,
      path,
      method,
      apiKey: headerValue(req, 'x-api-key'),
    });
    if (isRefusal(route)) return refuse(route);

    const event = proxyEvent(req, url, { stage, path, method, body, requestId, route, restApiId: options.restApiId });
    const outcome = await host.invoke(route.fn, event, INTEGRATION_TIMEOUT_MS);
    const response = proxyResponse(outcome);
    if ('reason' in response) return refuse(response);
    answer(response.status, response.headers, response.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      refused.push({ status: 500, message: 'Internal server error', reason: `local gateway bug: ${error}`, method: req.method ?? '', path: req.url ?? '' });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal server error' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    webhookUrlFor: (stage, path) => `${url}/${stage}/${path.replace(/^\//, '')}`,
    logs: () => [...logLines],
    refusals: () => [...refused],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await host.close();
    },
  };
}

type EventInput = {
  stage: string;
  path: string;
  method: string;
  body: string;
  requestId: string;
  route: Route;
  restApiId: string;
};

/** The REST API proxy integration's event (payload format 1.0), header names in the sender's case. */
function proxyEvent(req: IncomingMessage, url: URL, input: EventInput): Record<string, unknown> {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  const now = new Date();
  return {
    resource: input.route.resourcePath,
    path: input.path,
    httpMethod: input.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: input.route.stageVariables,
    requestContext: {
      accountId: input.route.accountId,
      apiId: input.restApiId,
      resourceId: input.route.resourceId,
      resourcePath: input.route.resourcePath,
      httpMethod: input.method,
      stage: input.stage,
      path: url.pathname,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: input.requestId,
      extendedRequestId: input.requestId,
      requestTimeEpoch: now.getTime(),
      domainName: req.headers.host ?? '',
      identity: {
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? null,
        apiKey: input.route.apiKeyId ? headerValue(req, 'x-api-key') : null,
        apiKeyId: input.route.apiKeyId ?? null,
      },
    },
    body: input.body.length > 0 ? input.body : null,
    isBase64Encoded: false,
  };
}

/** Maps the handler's answer to HTTP as API Gateway does; anything malformed is a 502. */
function proxyResponse(outcome: InvokeOutcome): { status: number; headers: Record<string, string>; body: Buffer } | Refusal {
  if (!outcome.ok) {
    if (outcome.kind === 'code') return { status: 500, message: 'Internal server error', reason: outcome.reason };
    if (outcome.kind === 'integration-timeout') {
      return { status: 504, message: 'Endpoint request timed out', reason: outcome.reason };
    }
    return { status: 502, message: 'Internal server error', reason: `${outcome.kind}: ${outcome.reason}` };
  }
  const result = outcome.result as { statusCode?: unknown; headers?: unknown; multiValueHeaders?: unknown; body?: unknown; isBase64Encoded?: unknown } | null;
  if (!result || typeof result !== 'object' || typeof result.statusCode !== 'number') {
    return { status: 502, message: 'Internal server error', reason: `malformed Lambda proxy response: ${JSON.stringify(result)}` };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries((result.headers as Record<string, unknown>) ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries((result.multiValueHeaders as Record<string, unknown[]>) ?? {})) {
    headers[name] = values.map(String).join(', ');
  }
  const raw = typeof result.body === 'string' ? result.body : '';
  const body = Buffer.from(raw, result.isBase64Encoded === true ? 'base64' : 'utf8');
  return { status: result.statusCode, headers, body };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
