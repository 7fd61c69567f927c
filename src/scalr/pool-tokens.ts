import { ScalrApiError } from '../errors.js';
import type { ScalrClient } from './client.js';

interface TokenDocument {
  data?: { id?: string; attributes?: { token?: string } };
}

/** Deletes an access token; a token that is already gone counts as deleted (terraform-provider-scalr does the same). */
export async function deleteAccessToken(client: ScalrClient, tokenId: string): Promise<void> {
  try {
    await client.request({
      method: 'DELETE',
      path: `access-tokens/${encodeURIComponent(tokenId)}`,
      purpose: { action: `deleting access token ${tokenId}`, resource: `access token ${tokenId}`, permission: 'agent-pools:update' },
    });
  } catch (error) {
    if (error instanceof ScalrApiError && error.status === 404) return;
    throw error;
  }
}

/** Creates a pool token described after the stack; its secret is only in this response. */
export async function createPoolToken(client: ScalrClient, poolId: string, stackName: string): Promise<{ id: string; token: string }> {
  const doc = await client.request<TokenDocument>({
    method: 'POST',
    path: `agent-pools/${poolId}/access-tokens`,
    body: { data: { type: 'access-tokens', attributes: { description: `scalr-serverless stack ${stackName}` } } },
    purpose: { action: `creating a token for agent pool ${poolId}`, resource: `agent pool ${poolId}`, permission: 'agent-pools:update' },
  });
  const id = doc?.data?.id;
  const token = doc?.data?.attributes?.token;
  client.addSecret(token);
  if (!id || !token) {
    if (id) await deleteAccessToken(client, id).catch(() => undefined);
    throw new ScalrApiError(`creating a token for agent pool ${poolId}: Scalr's answer has no token value`);
  }
  return { id, token };
}
