import { ScalrApiError, UsageError, describeCause } from '../errors.js';
import type { ScalrClient } from './client.js';
import { createPoolToken, deleteAccessToken } from './pool-tokens.js';

export { deleteAccessToken } from './pool-tokens.js';

/** Scalr pool ids: `apool-` then letters and digits (go-scalr, terraform-provider-scalr). */
export const POOL_ID_PATTERN = /^apool-[a-zA-Z0-9]+$/;
/** Page size for listing pools: the largest Scalr's JSON:API pagination accepts. */
export const POOL_LIST_PAGE_SIZE = 100;
/** A guard against a server whose `next-page` never ends: 100 000 pools is far past any account. */
export const POOL_LIST_MAX_PAGES = 1_000;

/** The webhook headers the handler reads (lambda-src): API Gateway key, pool token, Scalr URL. */
export const HEADER_API_KEY = 'X-Api-Key';
export const HEADER_SCALR_TOKEN = 'X-Scalr-Token';
export const HEADER_SCALR_URL = 'X-Scalr-Url';

/** What `pool attach` needs. Give `poolId` for an existing pool, or `createName` to make one. */
export interface AttachPoolOptions {
  poolId?: string;
  createName?: string;
  webhookUrl: string;
  apiKey: string;
  /** The Scalr URL the agent containers talk to, sent as X-Scalr-Url. */
  scalrUrl: string;
  /** A pool token the user supplied; when absent, one is created for this stack. */
  agentToken?: string;
  stackName: string;
  /** The token this tool created on an earlier attach, deleted once the new one is in place. */
  previousTokenId?: string;
}

/** What attach did, for the state file: keep `createdTokenId` to rotate or delete it later. */
export interface AttachPoolResult {
  poolId: string;
  poolName: string;
  /** Set when this call created the pool (`createName`). */
  createdPool: boolean;
  createdTokenId?: string;
  deletedTokenId?: string;
  webhookUrl: string;
  /** Where the pool's webhook pointed before, when that was somewhere else (another stack, an old module). */
  previousWebhookUrl?: string;
  /** Things that went wrong after the pool was attached (an old token that could not be deleted). */
  warnings: string[];
}

/** A pool whose webhook points at this stack. */
export interface AttachedPool {
  id: string;
  name: string;
  webhookEnabled: boolean;
  webhookUrl: string;
}

/** The attributes of an agent pool this tool reads. */
export interface PoolAttributes {
  name?: string;
  'webhook-enabled'?: boolean;
  'webhook-url'?: string | null;
}
/** One agent pool, as GET /agent-pools/{id} answers. */
export interface PoolDocument {
  data?: { id?: string; attributes?: PoolAttributes };
}
interface PoolListDocument {
  data?: Array<{ id?: string; attributes?: PoolAttributes }>;
  meta?: { pagination?: { 'next-page'?: number | null } };
}

/** Rejects anything that is not a pool id before a request is sent (it also keeps paths clean). */
export function assertPoolId(poolId: string | undefined): asserts poolId is string {
  if (!poolId || !POOL_ID_PATTERN.test(poolId)) {
    throw new UsageError(
      `"${poolId ?? ''}" is not an agent pool id: expected apool- followed by letters and digits (apool-v0p1a2b3c4d5e6f)`,
      'Find the id under Account > Agent pools in Scalr, or create a pool with --create <name>.',
    );
  }
}

function assertWebhookUrl(webhookUrl: string): void {
  let url: URL | undefined;
  try {
    url = new URL(webhookUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new UsageError(`the webhook URL "${webhookUrl}" is not an http(s) URL`);
  }
}

/** The pool's webhook: secrets marked sensitive, so Scalr reads them back as "". */
function webhookHeaders(apiKey: string, poolToken: string, scalrUrl: string) {
  return [
    { name: HEADER_API_KEY, value: apiKey, sensitive: true },
    { name: HEADER_SCALR_TOKEN, value: poolToken, sensitive: true },
    { name: HEADER_SCALR_URL, value: scalrUrl, sensitive: false },
  ];
}

/** What a request about one pool is for, so its errors name the pool and the permission. */
export const poolPurpose = (poolId: string, action: string, permission: string) => ({
  action: `${action} agent pool ${poolId}`,
  resource: `agent pool ${poolId}`,
  permission,
});

/** Runs `cleanup` after a failure; returns a note for the hint if the cleanup itself failed. */
async function tryCleanup(what: string, cleanup: () => Promise<void>): Promise<string | undefined> {
  try {
    await cleanup();
    return undefined;
  } catch (error) {
    return `${what} could not be removed (${describeCause(error)}); delete it in Scalr.`;
  }
}

/**
 * Points an agent pool's webhook at this stack: optionally creates the pool, creates a pool token
 * unless one was given, sends exactly one PATCH, then deletes the token of a previous attach.
 * A failure leaves nothing behind that this call created.
 */
export async function attachPool(client: ScalrClient, options: AttachPoolOptions): Promise<AttachPoolResult> {
  if (options.poolId !== undefined && options.createName !== undefined) {
    throw new UsageError('give either an agent pool id or a name for a new pool, not both');
  }
  if (options.createName === undefined) assertPoolId(options.poolId);
  else if (options.createName.trim() === '') throw new UsageError('the name for a new agent pool is empty');
  assertWebhookUrl(options.webhookUrl);
  if (!options.apiKey) throw new UsageError('the webhook API key is empty: deploy the stack first');
  client.addSecret(options.apiKey);
  client.addSecret(options.agentToken);

  const { poolId, poolName, createdPool, currentWebhookUrl } = await findOrCreatePool(client, options);
  const previousWebhookUrl = currentWebhookUrl && !sameUrl(currentWebhookUrl, options.webhookUrl) ? currentWebhookUrl : undefined;
  const cleanups: Array<[string, () => Promise<void>]> = [];
  if (createdPool) {
    cleanups.push([`agent pool ${poolId}`, async () => {
      await client.request({ method: 'DELETE', path: `agent-pools/${poolId}`, purpose: poolPurpose(poolId, 'deleting', 'agent-pools:delete') });
    }]);
  }
  try {
    let poolToken = options.agentToken;
    let createdTokenId: string | undefined;
    if (poolToken === undefined) {
      const created = await createPoolToken(client, poolId, options.stackName);
      poolToken = created.token;
      createdTokenId = created.id;
      cleanups.unshift([`access token ${created.id}`, () => deleteAccessToken(client, created.id)]);
    }
    await client.request({
      method: 'PATCH',
      path: `agent-pools/${poolId}`,
      body: {
        data: {
          type: 'agent-pools',
          id: poolId,
          attributes: {
            'webhook-enabled': true,
            'webhook-url': options.webhookUrl,
            'webhook-headers': webhookHeaders(options.apiKey, poolToken, options.scalrUrl),
          },
        },
      },
      purpose: poolPurpose(poolId, 'updating', 'agent-pools:update'),
    });
    // Only now is the old token unused: deleting it earlier would break agents mid-switch.
    const warnings: string[] = [];
    let deletedTokenId: string | undefined;
    if (options.previousTokenId && options.previousTokenId !== createdTokenId) {
      try {
        await deleteAccessToken(client, options.previousTokenId);
        deletedTokenId = options.previousTokenId;
      } catch (error) {
        warnings.push(`the old pool token ${options.previousTokenId} could not be deleted (${describeCause(error)}); delete it in Scalr`);
      }
    }
    return { poolId, poolName, createdPool, createdTokenId, deletedTokenId, webhookUrl: options.webhookUrl, previousWebhookUrl, warnings };
  } catch (error) {
    const notes: string[] = [];
    for (const [what, cleanup] of cleanups) {
      const note = await tryCleanup(what, cleanup);
      if (note) notes.push(note);
    }
    if (notes.length > 0 && error instanceof ScalrApiError) {
      throw new ScalrApiError(error.message, { status: error.status, hint: [error.hint, ...notes].filter(Boolean).join(' '), cause: error });
    }
    throw error;
  }
}

async function findOrCreatePool(client: ScalrClient, options: AttachPoolOptions) {
  if (options.createName !== undefined) {
    const name = options.createName.trim();
    const doc = await client.request<PoolDocument>({
      method: 'POST',
      path: 'agent-pools',
      body: { data: { type: 'agent-pools', attributes: { name } } },
      purpose: { action: `creating agent pool "${name}"`, permission: 'agent-pools:create' },
    });
    const id = doc?.data?.id;
    if (!id) throw new ScalrApiError(`creating agent pool "${name}": Scalr's answer has no pool id`);
    return { poolId: id, poolName: doc?.data?.attributes?.name ?? name, createdPool: true, currentWebhookUrl: undefined };
  }
  const poolId = options.poolId as string;
  const doc = await client.request<PoolDocument>({
    method: 'GET',
    path: `agent-pools/${poolId}`,
    purpose: poolPurpose(poolId, 'reading', 'agent-pools:read'),
  });
  const url = doc?.data?.attributes?.['webhook-url'];
  return { poolId, poolName: doc?.data?.attributes?.name ?? poolId, createdPool: false, currentWebhookUrl: typeof url === 'string' && url !== '' ? url : undefined };
}

/** Lists the pools whose webhook URL is this stack's, following Scalr's pagination. */
export async function listAttachedPools(client: ScalrClient, options: { webhookUrl: string }): Promise<AttachedPool[]> {
  const found: AttachedPool[] = [];
  let page: number | null | undefined = 1;
  for (let fetched = 0; page && fetched < POOL_LIST_MAX_PAGES; fetched++) {
    const doc: PoolListDocument | undefined = await client.request<PoolListDocument>({
      method: 'GET',
      path: 'agent-pools',
      query: { 'page[number]': page, 'page[size]': POOL_LIST_PAGE_SIZE },
      purpose: { action: 'listing agent pools', resource: 'the agent pool list', permission: 'agent-pools:read' },
    });
    for (const pool of doc?.data ?? []) {
      const url = pool.attributes?.['webhook-url'];
      if (pool.id && typeof url === 'string' && url !== '' && sameUrl(url, options.webhookUrl)) {
        found.push({ id: pool.id, name: pool.attributes?.name ?? pool.id, webhookEnabled: pool.attributes?.['webhook-enabled'] === true, webhookUrl: url });
      }
    }
    const next: number | null | undefined = doc?.meta?.pagination?.['next-page'];
    page = next && next > page ? next : undefined;
  }
  return found;
}

/** Whether two webhook URLs name the same endpoint (a trailing slash aside). */
export function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
