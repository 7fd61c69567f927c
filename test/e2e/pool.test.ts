import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { remainingStackResources } from '../helpers/inspect-stack.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { startFakeScalr, type FakeScalr, type RecordedRequest } from '../fake-scalr/server.js';

// The built CLI (npm run build first) against a stack on moto and the fake Scalr API.
const STACK = 'pools';
const API = '/api/iacp/v3/';

let moto: MotoServer;
let fake: FakeScalr;
let cwd: string;
let home: string;
let statePath: string;
let webhookUrl: string;
let apiKey: string;

const baseEnv = () => ({ ...moto.env, HOME: home, SCALR_HOSTNAME: fake.url, SCALR_TOKEN: fake.token, SCALR_SERVERLESS_RETRY_SCALE: '0.01' });
/** Runs `scalr-serverless pool ...` for the test stack; `env` entries set to undefined are removed. */
const pool = (args: string[], env: Record<string, string | undefined> = {}, stack = STACK) =>
  runCli(['pool', ...args, '--stack', stack], { cwd, env: { ...baseEnv(), ...env } });
const readStateText = () => readFile(statePath, 'utf8');
const readStateFile = async () => JSON.parse(await readStateText());
const sent = (method: string, pathPrefix = '') => fake.requests.filter((r) => r.method === method && r.path.startsWith(API + pathPrefix));
const route = (r: RecordedRequest) => `${r.method} ${r.path.slice(API.length)}`;

/** The exact PATCH attach must send. */
const attachPatch = (poolId: string, poolToken: string) => ({
  data: {
    type: 'agent-pools',
    id: poolId,
    attributes: {
      'webhook-enabled': true,
      'webhook-url': webhookUrl,
      'webhook-headers': [
        { name: 'X-Api-Key', value: apiKey, sensitive: true },
        { name: 'X-Scalr-Token', value: poolToken, sensitive: true },
        { name: 'X-Scalr-Url', value: fake.url, sensitive: false },
      ],
    },
  },
});

/** No output, and not the state file, may hold the account token, a pool token or the API key. */
async function expectNoCredentials(run: CliRun, extra: string[] = []) {
  const secrets = [fake.token, apiKey, ...fake.issuedTokens, ...extra];
  const state = await readStateText();
  for (const secret of secrets) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
    expect(state).not.toContain(secret);
  }
}

/** Reads a pool back through the fake's HTTP API, as Scalr's UI or API would show it. */
async function readPool(poolId: string) {
  const response = await fetch(`${fake.url}${API}agent-pools/${poolId}`, {
    headers: { authorization: `Bearer ${fake.token}`, accept: 'application/vnd.api+json' },
  });
  return (await response.json()).data.attributes;
}

beforeAll(async () => {
  [moto, fake] = await Promise.all([startMoto(), startFakeScalr()]);
  cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-pool-'));
  home = await mkdtemp(join(tmpdir(), 'scalr-serverless-home-'));
  statePath = join(cwd, '.scalr-serverless', `${STACK}.json`);
  const up = await runCli(['up', '--json', '--stack', STACK], { cwd, env: { ...moto.env, HOME: home } });
  expect(up.code, up.stderr).toBe(0);
  const status = await runCli(['status', '--json', '--show-secrets', '--stack', STACK], { cwd, env: { ...moto.env, HOME: home } });
  ({ webhook_url: webhookUrl, api_key: apiKey } = status.json().outputs);
  expect(webhookUrl).toMatch(/^https:\/\//);
  expect(apiKey.length).toBeGreaterThan(10);
});
afterAll(async () => {
  await fake?.close();
  await moto?.stop();
});
beforeEach(() => fake.reset());

describe('pool attach', () => {
  it('without SCALR_AGENT_TOKEN creates one token and sends exactly one PATCH with the webhook and three headers', async () => {
    const target = fake.addPool('fargate');
    const run = await pool(['attach', target.id]);
    expect(run.code, run.stderr).toBe(0);

    const tokens = fake.tokensOf(target.id);
    expect(tokens).toHaveLength(1);
    expect(tokens[0].description).toContain(STACK);
    expect(fake.requests.map(route)).toEqual([`GET agent-pools/${target.id}`, `POST agent-pools/${target.id}/access-tokens`, `PATCH agent-pools/${target.id}`]);
    expect(sent('PATCH')[0].body).toEqual(attachPatch(target.id, tokens[0].token));
    expect(sent('PATCH')[0].headers.authorization).toBe(`Bearer ${fake.token}`);

    const readBack = await readPool(target.id);
    expect(readBack['webhook-enabled']).toBe(true);
    expect(readBack['webhook-url']).toBe(webhookUrl);
    expect(readBack['webhook-headers']).toEqual([
      { name: 'X-Api-Key', value: '', sensitive: true },
      { name: 'X-Scalr-Token', value: '', sensitive: true },
      { name: 'X-Scalr-Url', value: fake.url, sensitive: false },
    ]);
    expect((await readStateFile()).pools[target.id]).toMatchObject({ hostname: fake.hostname, tokenId: tokens[0].id });
    expect(run.stdout).toContain(target.id);
    expect(run.stdout).toContain(webhookUrl);
    expect(run.stdout).toContain(`created ${tokens[0].id}`);
    expect(run.stderr).toContain('plain http');
    await expectNoCredentials(run);
  });

  it('with SCALR_AGENT_TOKEN creates no token and puts the given one on the pool; --json is one secret-free document', async () => {
    const target = fake.addPool('byo');
    const given = 'agent-token-given-by-the-user-0123456789';
    const run = await pool(['attach', target.id, '--json'], { SCALR_AGENT_TOKEN: given });
    expect(run.code, run.stderr).toBe(0);
    expect(sent('POST')).toEqual([]);
    expect(fake.tokens.size).toBe(0);
    expect(sent('PATCH').map((r) => r.body)).toEqual([attachPatch(target.id, given)]);
    expect(run.json()).toMatchObject({ stack: STACK, poolId: target.id, poolName: 'byo', poolCreated: false, webhookUrl, token: 'given', tokenId: null, tokenRotated: false });
    // the document carries the warnings printed on stderr (the fake Scalr is plain http)
    expect(run.json().warnings.join('\n')).toContain('plain http');
    expect((await readStateFile()).pools[target.id].tokenId).toBeUndefined();
    await expectNoCredentials(run, [given]);
  });

  it('re-attach rotates: one token remains, the old one deleted after the new PATCH; a failed re-attach keeps the old one', async () => {
    const target = fake.addPool('rotating');
    const first = await pool(['attach', target.id, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const firstTokenId = first.json().tokenId;
    fake.requests.length = 0;

    const second = await pool(['attach', target.id, '--json']);
    expect(second.code, second.stderr).toBe(0);
    const doc = second.json();
    expect(doc).toMatchObject({ token: 'created', tokenRotated: true, deletedTokenId: firstTokenId });
    expect(fake.tokensOf(target.id).map((t) => t.id)).toEqual([doc.tokenId]);
    const order = fake.requests.map(route);
    expect(order.indexOf(`DELETE access-tokens/${firstTokenId}`)).toBeGreaterThan(order.indexOf(`PATCH agent-pools/${target.id}`));
    expect((await readStateFile()).pools[target.id].tokenId).toBe(doc.tokenId);

    fake.failOn('PATCH', `agent-pools/${target.id}`, 422, 'webhook headers are invalid');
    const failed = await pool(['attach', target.id]);
    expect(failed.code).toBe(1);
    expect(fake.tokensOf(target.id).map((t) => t.id)).toEqual([doc.tokenId]);
    expect((await readStateFile()).pools[target.id].tokenId).toBe(doc.tokenId);
    await expectNoCredentials(failed);
  });

  it('--create <name> creates the pool first and attaches it', async () => {
    const run = await pool(['attach', '--create', 'made-by-cli', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = run.json();
    expect(doc).toMatchObject({ poolName: 'made-by-cli', poolCreated: true, token: 'created' });
    expect(sent('POST', 'agent-pools')[0].body).toEqual({ data: { type: 'agent-pools', attributes: { name: 'made-by-cli' } } });
    expect(fake.pools.get(doc.poolId)).toMatchObject({ name: 'made-by-cli', webhookEnabled: true, webhookUrl });
    expect((await readStateFile()).pools[doc.poolId].tokenId).toBe(doc.tokenId);

    const both = await pool(['attach', doc.poolId, '--create', 'again']);
    expect(both.code).toBe(2);
    expect(fake.pools.size).toBe(1);
  });

  it('a 422 on the PATCH fails, deletes the token this run created, and records nothing', async () => {
    const target = fake.addPool('refusing');
    const before = await readStateText();
    fake.failOn('PATCH', `agent-pools/${target.id}`, 422, 'webhook-url is not reachable from Scalr', '/data/attributes/webhook-url');
    const run = await pool(['attach', target.id]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Scalr rejected the request (422): ');
    expect(run.stderr).toContain('webhook-url is not reachable from Scalr');
    expect(sent('POST', `agent-pools/${target.id}/access-tokens`)).toHaveLength(1);
    expect(fake.tokens.size).toBe(0);
    expect(await readStateText()).toBe(before);
    await expectNoCredentials(run);
  });
});

describe('pool detach and pool list', () => {
  it('detach turns the webhook off, clears the headers, deletes the token and the state record', async () => {
    const target = fake.addPool('leaving');
    expect((await pool(['attach', target.id])).code).toBe(0);
    const tokenId = (await readStateFile()).pools[target.id].tokenId;
    const run = await pool(['detach', target.id, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ poolId: target.id, deletedTokenId: tokenId, stateRecordRemoved: true, previousWebhookUrl: webhookUrl });
    expect(await readPool(target.id)).toMatchObject({ 'webhook-enabled': false, 'webhook-url': null, 'webhook-headers': [] });
    expect(fake.tokensOf(target.id)).toEqual([]);
    expect((await readStateFile()).pools[target.id]).toBeUndefined();
    await expectNoCredentials(run);
  });

  it("detach leaves a pool that serves another webhook alone unless --force", async () => {
    const other = 'https://other.example.com/prod/trigger';
    const target = fake.addPool('someone-else', { webhookEnabled: true, webhookUrl: other });
    const refused = await pool(['detach', target.id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`sends its runs to ${other}`);
    expect(sent('PATCH')).toEqual([]);
    const forced = await pool(['detach', target.id, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(fake.pools.get(target.id)?.webhookEnabled).toBe(false);
  });

  it('a recorded pool deleted in Scalr: detach fails with 404 and keeps the record; --force forgets it', async () => {
    const target = fake.addPool('deleted-in-the-ui');
    expect((await pool(['attach', target.id])).code).toBe(0);
    fake.pools.delete(target.id);
    const failed = await pool(['detach', target.id]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`agent pool ${target.id} not found on ${fake.hostname}`);
    expect((await readStateFile()).pools[target.id]).toBeDefined();
    const forced = await pool(['detach', target.id, '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json()).toMatchObject({ forgotten: true, stateRecordRemoved: true });
    expect((await readStateFile()).pools[target.id]).toBeUndefined();
    expect(fake.tokens.size).toBe(0);
  });

  it('list follows pagination and finds exactly the attached pools; --json is one document', async () => {
    const all = Array.from({ length: 150 }, (_, i) => fake.addPool(`pool-${i}`));
    fake.addPool('elsewhere', { webhookEnabled: true, webhookUrl: 'https://other.example.com/prod/trigger' });
    const ours = [all[5], all[140]];
    for (const p of ours) expect((await pool(['attach', p.id], { SCALR_AGENT_TOKEN: 'agent-token-for-list-0123' })).code).toBe(0);
    fake.requests.length = 0;

    const run = await pool(['list', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = run.json();
    expect(doc.webhookUrl).toBe(webhookUrl);
    expect(doc.pools.map((p: { id: string }) => p.id).sort()).toEqual(ours.map((p) => p.id).sort());
    expect(sent('GET').map((r) => r.query['page[number]'])).toEqual(['1', '2']);

    const text = await pool(['list']);
    expect(text.code).toBe(0);
    for (const p of ours) expect(text.stdout).toContain(p.id);
    expect(text.stdout).not.toContain(all[6].id);
    await expectNoCredentials(text, ['agent-token-for-list-0123']);
  });
});

describe('pool errors', () => {
  it('a wrong account token: 401 naming SCALR_TOKEN, exit 1, state unchanged, the token not echoed', async () => {
    const target = fake.addPool('p');
    const before = await readStateText();
    const wrong = 'acct-wrong-token-0123456789abcdef';
    const run = await pool(['attach', target.id], { SCALR_TOKEN: wrong });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Scalr rejected the token (401): check SCALR_TOKEN');
    expect(await readStateText()).toBe(before);
    expect(sent('PATCH')).toEqual([]);
    await expectNoCredentials(run, [wrong]);
  });

  it('an unknown pool: 404 naming the pool and the host; under --json one error document on stdout', async () => {
    const run = await pool(['attach', 'apool-doesnotexist1', '--json']);
    expect(run.code).toBe(1);
    expect(run.json().error.message).toContain(`agent pool apool-doesnotexist1 not found on ${fake.hostname}`);
    expect(fake.requests.map(route)).toEqual(['GET agent-pools/apool-doesnotexist1']);
    await expectNoCredentials(run);
  });

  it('a malformed pool id is a usage error (exit 2) and sends nothing', async () => {
    for (const args of [['attach', 'pool-123'], ['attach', 'apool-../access-tokens'], ['detach', 'APOOL-1']]) {
      const run = await pool(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(`"${args[1]}" is not an agent pool id`);
    }
    const none = await pool(['attach']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('needs an agent pool id (apool-...) or --create <name>');
    expect(fake.requests).toEqual([]);
  });

  it('no token anywhere: exit 2, the message names SCALR_TOKEN, nothing sent', async () => {
    const run = await pool(['attach', fake.addPool('p').id], { SCALR_TOKEN: undefined });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('SCALR_TOKEN');
    expect(fake.requests).toEqual([]);
  });

  it('a stack that is not deployed: a clear error, nothing sent', async () => {
    const run = await pool(['attach', fake.addPool('p').id, '--json'], {}, 'never-deployed');
    expect(run.code).toBe(2);
    expect(run.json().error.message).toContain('stack "never-deployed" is not deployed');
    expect(fake.requests).toEqual([]);
  });

  it('refuses, before any request, a host the stack does not accept and a pool recorded on another host', async () => {
    const target = fake.addPool('p');
    const state = await readStateFile();
    const narrowed = join(cwd, 'narrowed.json');
    await writeFile(narrowed, JSON.stringify({ ...state, settings: { ...state.settings, allowedScalrHosts: ['acme.scalr.io'] } }));
    const refused = await pool(['attach', target.id, '--state', narrowed]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('accepts webhooks only for acme.scalr.io');
    expect(refused.stderr).toContain('--allowed-scalr-host 127.0.0.1');

    const moved = join(cwd, 'moved.json');
    await writeFile(moved, JSON.stringify({ ...state, pools: { [target.id]: { hostname: 'acme.scalr.io', tokenId: 'at-1', attachedAt: '2026-01-01T00:00:00Z' } } }));
    for (const command of ['attach', 'detach']) {
      const run = await pool([command, target.id, '--state', moved]);
      expect(run.code, command).toBe(2);
      expect(run.stderr).toContain(`agent pool ${target.id} was attached through acme.scalr.io`);
    }
    expect(fake.requests).toEqual([]);
  });

  it('429s are retried, honouring Retry-After, and the attach succeeds', async () => {
    const target = fake.addPool('busy');
    fake.failNext(2, 429, '1');
    const run = await pool(['attach', target.id]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/answered 429 while reading agent pool .*retrying in 1\.0 s \(attempt 2 of 5\)/);
    expect(fake.requests.slice(0, 3).map(route)).toEqual(Array(3).fill(`GET agent-pools/${target.id}`));
    expect(sent('PATCH')).toHaveLength(1);
    await expectNoCredentials(run);
  });
});

// Last: it deletes the stack the tests above share.
describe('down with pools still attached', () => {
  it('without Scalr credentials, down refuses and deletes nothing; with --keep-pools it deletes the stack and keeps the pool records; detach afterwards still cleans up', async () => {
    const target = fake.addPool('outlives-the-stack');
    expect((await pool(['attach', target.id])).code).toBe(0);
    const tokenId = (await readStateFile()).pools[target.id].tokenId;

    // Given no SCALR_TOKEN, down cannot detach the pools: it must stop before deleting anything.
    const refused = await runCli(['down', '--yes', '--stack', STACK], { cwd, env: { ...moto.env, HOME: home } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('cannot be detached');
    expect(refused.stderr).toContain('SCALR_TOKEN');
    expect(refused.stderr).toContain('--keep-pools');
    expect(await remainingStackResources(moto.endpoint, STACK)).not.toEqual([]);

    const kept = await runCli(['down', '--yes', '--keep-pools', '--stack', STACK], { cwd, env: { ...moto.env, HOME: home } });
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stderr).toContain(target.id);
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual([]);
    expect((await readStateFile()).pools[target.id].tokenId).toBe(tokenId);

    const run = await pool(['detach', target.id, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ deletedTokenId: tokenId, stateRecordRemoved: true });
    expect(fake.pools.get(target.id)).toMatchObject({ webhookEnabled: false, webhookUrl: null, webhookHeaders: [] });
    expect(fake.tokensOf(target.id)).toEqual([]);
    await expectNoCredentials(run);
  });

  it('with Scalr credentials, down detaches the recorded pools first, then deletes the stack', async () => {
    expect((await runCli(['up', '--stack', STACK], { cwd, env: { ...moto.env, HOME: home } })).code).toBe(0);
    // Pools recorded by the tests above were reset in the fake Scalr: forget them, as `pool detach --force` would.
    for (const poolId of Object.keys((await readStateFile()).pools)) {
      expect((await pool(['detach', poolId, '--force'])).code).toBe(0);
    }
    const target = fake.addPool('detached-by-down');
    expect((await pool(['attach', target.id])).code).toBe(0);

    const down = await runCli(['down', '--yes', '--json', '--stack', STACK], { cwd, env: baseEnv() });
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(down.json().detachedPools).toEqual([target.id]);
    expect(fake.pools.get(target.id)).toMatchObject({ webhookEnabled: false, webhookHeaders: [] });
    expect(fake.tokensOf(target.id)).toEqual([]);
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual([]);
    // The state file went with the stack; the output must still hold no credential.
    for (const secret of [fake.token, ...fake.issuedTokens]) expect(down.stdout + down.stderr).not.toContain(secret);
  });
});
