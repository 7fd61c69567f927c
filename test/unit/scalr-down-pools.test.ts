import { UsageError } from '../../src/errors.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detachRecordedPools } from '../../src/cli/commands/pool.js';
import { SecretMask, type Io } from '../../src/cli/output.js';
import type { StackState } from '../../src/state/state-file.js';
import { DEFAULT_SETTINGS } from '../../src/settings.js';
import { attachPool } from '../../src/scalr/pools.js';
import { startFakeScalr, type FakeScalr } from '../fake-scalr/server.js';
import { clientFor } from '../scalr/helpers.js';

// What `down` would call before deleting the webhook: detachRecordedPools, against the fake Scalr.
const INVOKE_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod';
const WEBHOOK = `${INVOKE_URL}/webhook`;
const API_KEY = 'apikey-0123456789abcdefghij';

let fake: FakeScalr;
const savedEnv = { ...process.env };
beforeAll(async () => {
  fake = await startFakeScalr();
  process.env.HOME = await mkdtemp(join(tmpdir(), 'scalr-serverless-home-'));
});
afterAll(async () => {
  process.env = savedEnv;
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  process.env.SCALR_HOSTNAME = fake.url;
  process.env.SCALR_TOKEN = fake.token;
});

function recordingIo(): Io & { text: () => string } {
  const lines: string[] = [];
  const stream = { write: (chunk: string) => lines.push(chunk) } as unknown as NodeJS.WritableStream;
  return {
    stdout: stream,
    stderr: stream,
    interactive: false,
    json: false,
    quiet: false,
    debug: false,
    secrets: new SecretMask(),
    confirm: async () => false,
    text: () => lines.join(''),
  };
}

function stateWith(pools: StackState['pools']): StackState {
  return {
    formatVersion: 1,
    tool: 'scalr-serverless',
    stack: 'prod',
    region: 'us-east-1',
    settings: DEFAULT_SETTINGS,
    resources: { stage: { kind: 'ApiStage', name: 'prod', id: 'prod', props: {}, outputs: { invokeUrl: INVOKE_URL }, dependsOn: [] } },
    pools,
    updatedAt: new Date().toISOString(),
  };
}

async function attachedPool(name: string) {
  const { client } = clientFor(fake);
  const attached = await attachPool(client, { poolId: fake.addPool(name).id, webhookUrl: WEBHOOK, apiKey: API_KEY, scalrUrl: fake.url, stackName: 'prod' });
  return { poolId: attached.poolId, record: { hostname: fake.hostname, tokenId: attached.createdTokenId, attachedAt: new Date().toISOString() } };
}

describe('detachRecordedPools (for down)', () => {
  it('detaches every recorded pool, deletes their tokens and saves the state without their records', async () => {
    const a = await attachedPool('a');
    const b = await attachedPool('b');
    const state = stateWith({ [a.poolId]: a.record, [b.poolId]: b.record });
    const saved: StackState[] = [];
    const io = recordingIo();
    const outcome = await detachRecordedPools({ stack: 'prod' }, state, async (s) => void saved.push(structuredClone(s)), io);
    expect(outcome.detached.sort()).toEqual([a.poolId, b.poolId].sort());
    expect(outcome.left).toEqual([]);
    for (const id of [a.poolId, b.poolId]) expect(fake.pools.get(id)).toMatchObject({ webhookEnabled: false, webhookHeaders: [] });
    expect(fake.tokens.size).toBe(0);
    expect(saved.at(-1)?.pools).toEqual({});
    expect(io.text()).not.toContain(fake.token);
  });

  it('without a Scalr token changes nothing and is a usage error naming SCALR_TOKEN and --keep-pools', async () => {
    const a = await attachedPool('a');
    delete process.env.SCALR_TOKEN;
    fake.requests.length = 0;
    const state = stateWith({ [a.poolId]: a.record });
    let saves = 0;
    const refused = detachRecordedPools({ stack: 'prod' }, state, async () => void saves++, recordingIo());
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toMatchObject({ message: expect.stringContaining('SCALR_TOKEN'), hint: expect.stringContaining('--keep-pools') });
    expect(fake.requests).toEqual([]);
    expect(saves).toBe(0);
    expect(state.pools[a.poolId]).toBeDefined();
  });

  it('leaves a pool recorded on another host alone and keeps its record', async () => {
    const a = await attachedPool('a');
    const elsewhere = { ...a.record, hostname: 'acme.scalr.io' };
    fake.requests.length = 0;
    const state = stateWith({ [a.poolId]: elsewhere });
    const outcome = await detachRecordedPools({ stack: 'prod' }, state, async () => {}, recordingIo());
    expect(outcome.left).toEqual([{ poolId: a.poolId, reason: expect.stringContaining('attached through acme.scalr.io') }]);
    expect(fake.requests).toEqual([]);
    expect(fake.pools.get(a.poolId)?.webhookEnabled).toBe(true);
  });
});
