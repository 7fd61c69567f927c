import { ScalrApiError, ScalrServerlessError, describeCause } from '../errors.js';
import type { ScalrClient } from './client.js';
import { deleteAccessToken } from './pool-tokens.js';
import { assertPoolId, poolPurpose, sameUrl, type PoolDocument } from './pools.js';

/** The error code of a refused detach: the pool's webhook points at something other than this stack. */
export const POOL_NOT_OURS = 'POOL_NOT_OURS';

/** What `pool detach` needs. */
export interface DetachPoolOptions {
  poolId: string;
  /** The token this stack created for the pool (from the state file), deleted once the webhook is off. */
  tokenId?: string;
  /** This stack's webhook URL, when known: a pool pointing elsewhere is left alone unless `force`. */
  expectedWebhookUrl?: string;
  force?: boolean;
}

/** What detach did. */
export interface DetachPoolResult {
  poolId: string;
  poolName: string;
  /** Where the webhook pointed before detach (undefined when it had none). */
  previousWebhookUrl?: string;
  deletedTokenId?: string;
}

/**
 * Turns the pool's webhook off and removes its headers, so no key or token lingers in Scalr, then
 * deletes the pool token this tool created (already gone is fine). Reads the pool first: a 404 stops
 * before any change, and a webhook that serves another receiver is not cut off unless `force`.
 */
export async function detachPool(client: ScalrClient, options: DetachPoolOptions): Promise<DetachPoolResult> {
  assertPoolId(options.poolId);
  const { poolId } = options;
  const doc = await client.request<PoolDocument>({
    method: 'GET',
    path: `agent-pools/${poolId}`,
    purpose: poolPurpose(poolId, 'reading', 'agent-pools:read'),
  });
  const current = doc?.data?.attributes?.['webhook-url'];
  const previousWebhookUrl = typeof current === 'string' && current !== '' ? current : undefined;
  if (previousWebhookUrl && options.expectedWebhookUrl && !sameUrl(previousWebhookUrl, options.expectedWebhookUrl) && !options.force) {
    throw new ScalrServerlessError(
      POOL_NOT_OURS,
      `agent pool ${poolId} sends its runs to ${previousWebhookUrl}, not to this stack's webhook ${options.expectedWebhookUrl}: nothing was changed`,
      { hint: 'detaching would cut off whatever serves that URL; check --stack, or add --force to detach it anyway' },
    );
  }
  const patch = (webhookUrl: string | null) =>
    client.request({
      method: 'PATCH',
      path: `agent-pools/${poolId}`,
      body: { data: { type: 'agent-pools', id: poolId, attributes: { 'webhook-enabled': false, 'webhook-url': webhookUrl, 'webhook-headers': [] } } },
      purpose: poolPurpose(poolId, 'detaching', 'agent-pools:update'),
    });
  try {
    // null is JSON:API's "no value"; neither go-scalr nor the provider documents the pool's webhook
    // fields, so if Scalr insists on a string we clear it with "" instead.
    await patch(null);
  } catch (error) {
    if (!(error instanceof ScalrApiError && error.status === 422 && /webhook-url/.test(error.message))) throw error;
    await patch('');
  }
  if (options.tokenId) await deleteAccessToken(client, options.tokenId);
  return { poolId, poolName: doc?.data?.attributes?.name ?? poolId, previousWebhookUrl, deletedTokenId: options.tokenId };
}

/** What detaching a stack's recorded pools did, pool by pool. */
export interface DetachPoolsResult {
  /** Webhook turned off, headers cleared, token deleted. */
  detached: string[];
  /** The pool already pointed elsewhere: left as it is, only this stack's token was deleted. */
  released: string[];
  /** Could not be detached; the record must stay so a later run can finish the job. */
  left: Array<{ poolId: string; reason: string }>;
}

/**
 * Detaches every pool in `records` from the stack's webhook (for `down`, before the webhook goes).
 * One pool's failure does not stop the others; each outcome is reported.
 */
export async function detachPools(
  client: ScalrClient,
  records: Record<string, { tokenId?: string }>,
  webhookUrl: string | undefined,
): Promise<DetachPoolsResult> {
  const outcome: DetachPoolsResult = { detached: [], released: [], left: [] };
  for (const [poolId, record] of Object.entries(records)) {
    try {
      await detachPool(client, { poolId, tokenId: record.tokenId, expectedWebhookUrl: webhookUrl });
      outcome.detached.push(poolId);
    } catch (error) {
      if (error instanceof ScalrServerlessError && error.code === POOL_NOT_OURS) {
        try {
          if (record.tokenId) await deleteAccessToken(client, record.tokenId);
          outcome.released.push(poolId);
          continue;
        } catch (tokenError) {
          error = tokenError;
        }
      }
      outcome.left.push({ poolId, reason: error instanceof Error ? error.message : describeCause(error) });
    }
  }
  return outcome;
}
