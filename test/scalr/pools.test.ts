import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ScalrApiError, UsageError } from '../../src/errors.js';
import { attachPool, listAttachedPools } from '../../src/scalr/pools.js';
import { detachPool, detachPools, POOL_NOT_OURS } from '../../src/scalr/pool-detach.js';
import { startFakeScalr, type FakeScalr } from '../fake-scalr/server.js';
import { caught, clientFor, expectNoSecrets, resetFake } from './helpers.js';

const WEBHOOK = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/trigger';
const API_KEY = 'apikey-0123456789abcdefghij';
const SCALR_URL = 'https://acme.scalr.io';

let fake: FakeScalr;
beforeAll(async () => {
  fake = await startFakeScalr();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => resetFake(fake));

const base = { webhookUrl: WEBHOOK, apiKey: API_KEY, scalrUrl: SCALR_URL, stackName: 'prod' };
const patches = () => fake.requests.filter((r) => r.method === 'PATCH');
const expectedPatch = (poolId: string, poolToken: string, enabled = true) => ({
  data: {
    type: 'agent-pools',
    id: poolId,
    attributes: {
      'webhook-enabled': enabled,
      'webhook-url': WEBHOOK,
      'webhook-headers': [
        { name: 'X-Api-Key', value: API_KEY, sensitive: true },
        { name: 'X-Scalr-Token', value: poolToken, sensitive: true },
        { name: 'X-Scalr-Url', value: SCALR_URL, sensitive: false },
      ],
    },
  },
});

describe('attachPool', () => {
  it('creates a pool token when none is given and sends exactly one PATCH carrying it', async () => {
    // given
    const pool = fake.addPool('fargate');
    const { client } = clientFor(fake);
    // when
    const result = await attachPool(client, { ...base, poolId: pool.id });
    // then
    const tokens = fake.tokensOf(pool.id);
    expect(tokens).toHaveLength(1);
    expect(tokens[0].description).toContain('prod');
    expect(result).toMatchObject({ poolId: pool.id, poolName: 'fargate', createdTokenId: tokens[0].id, webhookUrl: WEBHOOK });
    expect(patches()).toHaveLength(1);
    const [patch] = patches();
    expect(patch.path).toBe(`/api/iacp/v3/agent-pools/${pool.id}`);
    expect(patch.body).toEqual(expectedPatch(pool.id, tokens[0].token));
    expect(patch.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect(patch.headers['content-type']).toBe('application/vnd.api+json');
    expect(patch.headers.accept).toContain('application/vnd.api+json');
    expect(fake.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'PATCH']);
    expect(fake.pools.get(pool.id)).toMatchObject({ webhookEnabled: true, webhookUrl: WEBHOOK });
  });

  it('uses a given agent token and creates none', async () => {
    const pool = fake.addPool('byo');
    const { client } = clientFor(fake);
    const result = await attachPool(client, { ...base, poolId: pool.id, agentToken: 'user-supplied-pool-token-xyz' });
    expect(result.createdTokenId).toBeUndefined();
    expect(fake.tokensOf(pool.id)).toHaveLength(0);
    expect(fake.requests.some((r) => r.path.endsWith('/access-tokens'))).toBe(false);
    expect(patches().map((p) => p.body)).toEqual([expectedPatch(pool.id, 'user-supplied-pool-token-xyz')]);
  });

  it('rotates on re-attach: the old token is deleted after the PATCH, and tokens do not pile up', async () => {
    const pool = fake.addPool('rotating');
    const { client } = clientFor(fake);
    let previous = (await attachPool(client, { ...base, poolId: pool.id })).createdTokenId;
    for (let i = 0; i < 3; i++) {
      fake.requests.length = 0;
      const result = await attachPool(client, { ...base, poolId: pool.id, previousTokenId: previous });
      expect(result.deletedTokenId).toBe(previous);
      const order = fake.requests.map((r) => `${r.method} ${r.path.replace('/api/iacp/v3/', '')}`);
      expect(order.indexOf(`DELETE access-tokens/${previous}`)).toBeGreaterThan(order.indexOf(`PATCH agent-pools/${pool.id}`));
      previous = result.createdTokenId;
      expect(fake.tokensOf(pool.id).map((t) => t.id)).toEqual([previous]);
    }
  });

  it('with a given agent token, deletes the token an earlier attach created', async () => {
    const pool = fake.addPool('switch-to-byo');
    const { client } = clientFor(fake);
    const first = await attachPool(client, { ...base, poolId: pool.id });
    const second = await attachPool(client, { ...base, poolId: pool.id, agentToken: 'byo-token-1234567', previousTokenId: first.createdTokenId });
    expect(second.deletedTokenId).toBe(first.createdTokenId);
    expect(fake.tokensOf(pool.id)).toHaveLength(0);
  });

  it('deletes the token it just created when the PATCH fails, and says why', async () => {
    const pool = fake.addPool('rejecting');
    fake.failOn('PATCH', 'agent-pools/', 422, 'webhook-url is not reachable from Scalr', '/data/attributes/webhook-url');
    const { client, logs } = clientFor(fake);
    const error = await caught(() => attachPool(client, { ...base, poolId: pool.id }));
    expect(error).toBeInstanceOf(ScalrApiError);
    expect(error.status).toBe(422);
    expect(error.message).toContain('webhook-url is not reachable from Scalr');
    expect(fake.tokensOf(pool.id)).toHaveLength(0);
    expect(fake.pools.get(pool.id)).toMatchObject({ webhookEnabled: false, webhookHeaders: [] });
    const created = fake.requests.find((r) => r.method === 'POST');
    expect(created).toBeDefined();
    expect(fake.requests.at(-1)?.method).toBe('DELETE');
    expectNoSecrets(error, logs, [fake.token, API_KEY]);
  });

  it('creates a pool by name, and removes it again when attaching it fails', async () => {
    const { client } = clientFor(fake);
    const made = await attachPool(client, { ...base, createName: 'serverless-prod' });
    expect(made.createdPool).toBe(true);
    expect(fake.pools.get(made.poolId)).toMatchObject({ name: 'serverless-prod', webhookEnabled: true });
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/api/iacp/v3/agent-pools', body: { data: { type: 'agent-pools', attributes: { name: 'serverless-prod' } } } });

    fake.failOn('PATCH', 'agent-pools/', 422, 'invalid header');
    await caught(() => attachPool(client, { ...base, createName: 'doomed' }));
    expect([...fake.pools.values()].map((p) => p.name)).toEqual(['serverless-prod']);
    expect(fake.tokens.size).toBe(1);
  });

  it('stops at a pool that does not exist, changing nothing', async () => {
    const { client } = clientFor(fake);
    const error = await caught(() => attachPool(client, { ...base, poolId: 'apool-doesnotexist1' }));
    expect(error).toBeInstanceOf(ScalrApiError);
    expect(error.message).toContain(`agent pool apool-doesnotexist1 not found on ${fake.hostname}, or the token cannot see it`);
    expect(fake.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('rejects a malformed pool id before sending anything', async () => {
    const { client } = clientFor(fake);
    for (const bad of ['pool-123', 'apool-', 'apool-../../access-tokens', 'APOOL-1']) {
      const error = await caught(() => attachPool(client, { ...base, poolId: bad }));
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toContain('expected apool- followed by letters and digits');
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('explains a token without permission and leaves nothing behind', async () => {
    const pool = fake.addPool('locked');
    fake.denyWrites(true);
    const { client, logs } = clientFor(fake);
    const error = await caught(() => attachPool(client, { ...base, poolId: pool.id, agentToken: 'agent-token-abcdef123' }));
    expect(error.status).toBe(403);
    expect(error.message).toContain('the token lacks permission (agent-pools:update)');
    expect(fake.pools.get(pool.id)?.webhookEnabled).toBe(false);
    expectNoSecrets(error, logs, [fake.token, API_KEY, 'agent-token-abcdef123']);
  });
});

describe('detachPool', () => {
  it('disables the webhook, clears every header and deletes the pool token', async () => {
    const pool = fake.addPool('leaving');
    const { client } = clientFor(fake);
    const attached = await attachPool(client, { ...base, poolId: pool.id });
    const result = await detachPool(client, { poolId: pool.id, tokenId: attached.createdTokenId });
    expect(result.deletedTokenId).toBe(attached.createdTokenId);
    expect(fake.pools.get(pool.id)).toMatchObject({ webhookEnabled: false, webhookUrl: null, webhookHeaders: [] });
    expect(fake.tokensOf(pool.id)).toHaveLength(0);
    // A second detach (a re-run `down`) finds the token gone and still succeeds.
    await expect(detachPool(client, { poolId: pool.id, tokenId: attached.createdTokenId })).resolves.toBeDefined();
  });

  it('clears the URL with "" when Scalr refuses null', async () => {
    const pool = fake.addPool('strict', { webhookEnabled: true, webhookUrl: WEBHOOK });
    fake.options.rejectNullWebhookUrl = true;
    const { client } = clientFor(fake);
    await detachPool(client, { poolId: pool.id });
    expect(fake.pools.get(pool.id)).toMatchObject({ webhookEnabled: false, webhookUrl: '', webhookHeaders: [] });
  });
});

describe('detachPool guards and detachPools', () => {
  it('refuses to cut off a pool whose webhook serves another URL, unless forced', async () => {
    const pool = fake.addPool('other', { webhookEnabled: true, webhookUrl: 'https://other.example.com/prod/trigger' });
    const { client } = clientFor(fake);
    const error = await caught(() => detachPool(client, { poolId: pool.id, expectedWebhookUrl: WEBHOOK }));
    expect((error as Error & { code?: string }).code).toBe(POOL_NOT_OURS);
    expect(fake.requests.map((r) => r.method)).toEqual(['GET']);
    await detachPool(client, { poolId: pool.id, expectedWebhookUrl: WEBHOOK, force: true });
    expect(fake.pools.get(pool.id)).toMatchObject({ webhookEnabled: false, webhookHeaders: [] });
  });

  it('a pool that is gone stops detach before any change (404 names the pool)', async () => {
    const { client } = clientFor(fake);
    const error = await caught(() => detachPool(client, { poolId: 'apool-gone1', tokenId: 'at-1', expectedWebhookUrl: WEBHOOK }));
    expect(error.status).toBe(404);
    expect(error.message).toContain('agent pool apool-gone1 not found');
    expect(fake.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('detaches ours, releases a re-pointed one (only our token deleted), and reports the failures', async () => {
    const { client } = clientFor(fake);
    const ours = await attachPool(client, { ...base, poolId: fake.addPool('ours').id });
    const moved = await attachPool(client, { ...base, poolId: fake.addPool('moved').id });
    const movedPool = fake.pools.get(moved.poolId)!;
    movedPool.webhookUrl = 'https://new-home.example.com/prod/webhook';
    const records = {
      [ours.poolId]: { tokenId: ours.createdTokenId },
      [moved.poolId]: { tokenId: moved.createdTokenId },
      'apool-vanished1': { tokenId: 'at-vanished' },
    };
    const outcome = await detachPools(client, records, WEBHOOK);
    expect(outcome.detached).toEqual([ours.poolId]);
    expect(outcome.released).toEqual([moved.poolId]);
    expect(outcome.left).toEqual([{ poolId: 'apool-vanished1', reason: expect.stringContaining('not found') }]);
    expect(fake.pools.get(ours.poolId)).toMatchObject({ webhookEnabled: false, webhookHeaders: [] });
    expect(movedPool).toMatchObject({ webhookEnabled: true, webhookUrl: 'https://new-home.example.com/prod/webhook' });
    expect(fake.tokens.size).toBe(0);
  });
});

describe('listAttachedPools', () => {
  it('follows pagination across 250 pools and finds only the ones pointing at this stack', async () => {
    const ours = new Set<string>();
    for (let i = 0; i < 250; i++) {
      const attached = i === 3 || i === 150 || i === 249;
      const other = i === 77;
      const pool = fake.addPool(`pool-${i}`, {
        webhookEnabled: attached || other,
        webhookUrl: attached ? WEBHOOK : other ? 'https://other.example.com/prod/trigger' : null,
      });
      if (attached) ours.add(pool.id);
    }
    const { client } = clientFor(fake);
    const found = await listAttachedPools(client, { webhookUrl: WEBHOOK });
    expect(new Set(found.map((p) => p.id))).toEqual(ours);
    expect(found.every((p) => p.webhookEnabled && p.webhookUrl === WEBHOOK)).toBe(true);
    const gets = fake.requests.filter((r) => r.method === 'GET');
    expect(gets.map((r) => r.query['page[number]'])).toEqual(['1', '2', '3']);
    expect(gets.every((r) => r.query['page[size]'] === '100')).toBe(true);
  });
});
