import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { ScalrApiError } from '../../src/errors.js';
import { ScalrClient, parseRetryAfter } from '../../src/scalr/client.js';
import { attachPool } from '../../src/scalr/pools.js';
import { startFakeScalr, type FakeScalr } from '../fake-scalr/server.js';
import { caught, clientFor, expectNoSecrets, resetFake } from './helpers.js';

const API_KEY = 'apikey-zyxwvutsrq9876543210';
const AGENT_TOKEN = 'agent-pool-token-secret-42';
const base = {
  webhookUrl: 'https://abc.execute-api.us-east-1.amazonaws.com/prod/trigger',
  apiKey: API_KEY,
  scalrUrl: 'https://acme.scalr.io',
  stackName: 'dev',
};

let fake: FakeScalr;
beforeAll(async () => {
  fake = await startFakeScalr();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => resetFake(fake));

const getPool = (client: ScalrClient, id: string) =>
  client.request({ method: 'GET', path: `agent-pools/${id}`, purpose: { action: `reading agent pool ${id}`, resource: `agent pool ${id}` } });

describe('ScalrClient requests', () => {
  it('sends the JSON:API headers, a Content-Type only with a body, and the bearer token', async () => {
    const { client } = clientFor(fake);
    const pool = fake.addPool('p');
    await getPool(client, pool.id);
    await client.request({ method: 'POST', path: `agent-pools/${pool.id}/access-tokens`, body: { data: { type: 'access-tokens', attributes: {} } }, purpose: { action: 'creating a token' } });
    const [get, post] = fake.requests;
    expect(get.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect(get.headers.accept).toBe('application/vnd.api+json');
    expect(get.headers['content-type']).toBeUndefined();
    expect(post.headers['content-type']).toBe('application/vnd.api+json');
  });
});

describe('retries', () => {
  it('retries a 429 after the Retry-After seconds and then succeeds', async () => {
    const pool = fake.addPool('busy');
    fake.failNext(2, 429, '3');
    const { client, delays, logs } = clientFor(fake);
    const doc = await getPool(client, pool.id);
    expect(doc).toMatchObject({ data: { id: pool.id } });
    expect(fake.requests).toHaveLength(3);
    expect(delays).toEqual([3000, 3000]);
    expect(logs[0]).toContain('answered 429');
  });

  it('really waits when no sleep is injected, shrunk by SCALR_SERVERLESS_RETRY_SCALE', async () => {
    const pool = fake.addPool('scaled');
    fake.failNext(1, 429, '20');
    const before = process.env.SCALR_SERVERLESS_RETRY_SCALE;
    process.env.SCALR_SERVERLESS_RETRY_SCALE = '0.01';
    try {
      const client = new ScalrClient({ scalrUrl: fake.url, token: fake.token });
      const started = Date.now();
      await getPool(client, pool.id);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(190); // 20 s * 0.01
      expect(elapsed).toBeLessThan(5_000);
    } finally {
      if (before === undefined) delete process.env.SCALR_SERVERLESS_RETRY_SCALE;
      else process.env.SCALR_SERVERLESS_RETRY_SCALE = before;
    }
  });

  it('understands Retry-After as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('3600', now)).toBe(60_000); // capped
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('backs off exponentially on 500 and gives up with a clear message', async () => {
    const pool = fake.addPool('broken');
    fake.failNext(10, 500);
    const { client, delays } = clientFor(fake);
    const error = await caught(() => getPool(client, pool.id));
    expect(error).toBeInstanceOf(ScalrApiError);
    expect(error.message).toBe(`reading agent pool ${pool.id}: Scalr answered 500 after 5 attempts: Internal Server Error: injected by the test`);
    expect(error.hint).toContain('try again');
    expect(fake.requests).toHaveLength(5);
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
  });

  it('does not repeat a POST that got a 500, since it may have created something', async () => {
    const pool = fake.addPool('once');
    fake.failNext(1, 500);
    const { client } = clientFor(fake);
    await caught(() => client.request({ method: 'POST', path: `agent-pools/${pool.id}/access-tokens`, body: { data: { type: 'access-tokens', attributes: {} } }, purpose: { action: 'creating a token' } }));
    expect(fake.requests).toHaveLength(1);
  });
});

describe('errors say what to do and never show a secret', () => {
  const secrets = () => [fake.token, API_KEY, AGENT_TOKEN];

  it('401: names SCALR_TOKEN', async () => {
    const pool = fake.addPool('p');
    const wrong = 'wrong-account-token-123456';
    const { client, logs } = clientFor(fake, { token: wrong });
    const error = await caught(() => attachPool(client, { ...base, poolId: pool.id, agentToken: AGENT_TOKEN }));
    expect(error.status).toBe(401);
    expect(error.message).toContain('Scalr rejected the token (401): check SCALR_TOKEN');
    expectNoSecrets(error, logs, [...secrets(), wrong]);
  });

  it('403: names the missing permission', async () => {
    const pool = fake.addPool('p');
    fake.denyWrites(true);
    const { client, logs } = clientFor(fake);
    const error = await caught(() => attachPool(client, { ...base, poolId: pool.id, agentToken: AGENT_TOKEN }));
    expect(error.message).toContain('agent-pools:update');
    expectNoSecrets(error, logs, secrets());
  });

  it('404: says the pool is missing or invisible to the token', async () => {
    const { client, logs } = clientFor(fake);
    const error = await caught(() => attachPool(client, { ...base, poolId: 'apool-gone42', agentToken: AGENT_TOKEN }));
    expect(error.message).toBe(`reading agent pool apool-gone42: agent pool apool-gone42 not found on ${fake.hostname}, or the token cannot see it (404)`);
    expectNoSecrets(error, logs, secrets());
  });

  it('422: passes on Scalr\'s detail, masking any secret it echoes back', async () => {
    const pool = fake.addPool('p');
    fake.failOn('PATCH', 'agent-pools/', 422, `header value ${API_KEY} / ${AGENT_TOKEN} is too long`, '/data/attributes/webhook-headers');
    fake.failNext(1, 429, '1');
    const { client, logs } = clientFor(fake);
    const error = await caught(() => attachPool(client, { ...base, poolId: pool.id, agentToken: AGENT_TOKEN }));
    expect(error.message).toContain('Scalr rejected the request (422): Invalid Attribute: header value *** / *** is too long (at /data/attributes/webhook-headers)');
    expect(logs.length).toBeGreaterThan(0);
    expectNoSecrets(error, logs, secrets());
  });

  it('network: names the host that could not be reached', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as { port: number };
        server.close(() => resolve(p));
      });
    });
    const client = new ScalrClient({ scalrUrl: `http://127.0.0.1:${port}`, token: fake.token, sleep: async () => {} });
    const error = await caught(() => getPool(client, 'apool-abc'));
    expect(error.message).toBe(`reading agent pool apool-abc: could not reach 127.0.0.1:${port} (ECONNREFUSED)`);
    expect(error.hint).toContain('SCALR_HOSTNAME');
    expectNoSecrets(error, [], [fake.token]);
  });

  it('timeout: says the host did not answer in time', async () => {
    const slow = await startFakeScalr({ delayMs: 300 });
    try {
      const { client } = clientFor(slow, { timeoutMs: 50, maxAttempts: 2 });
      const error = await caught(() => getPool(client, 'apool-slow'));
      expect(error.message).toBe(`reading agent pool apool-slow: ${slow.hostname} did not answer within 50 ms`);
      expect(slow.requests).toHaveLength(2);
    } finally {
      await slow.close();
    }
  });
});
