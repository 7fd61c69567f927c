import { homedir } from 'node:os';
import { ScalrClient } from '../../scalr/client.js';
import { resolveAgentToken, resolveScalrCredentials, type ScalrCredentials } from '../../scalr/credentials.js';
import { assertPoolId, attachPool, listAttachedPools } from '../../scalr/pools.js';
import { detachPool, detachPools, type DetachPoolResult, type DetachPoolsResult } from '../../scalr/pool-detach.js';
import { deleteAccessToken } from '../../scalr/pool-tokens.js';
import { readState, StateWriter, type PoolRecord, type StackState } from '../../state/state-file.js';
import { lockState } from '../../state/lock.js';
import { webhookUrl } from '../../stack.js';
import { hostAllowed } from '../../../lambda-src/config.js';
import { ScalrApiError, UsageError } from '../../errors.js';
import { connect, loadLocalStack, type CommonOptions, type LocalStack } from '../stack-context.js';
import { apiKeyValue } from './outputs.js';
import { info, result, warn, type Io } from '../output.js';
import { VERSION } from '../version.js';

/** Options shared by the pool commands: where Scalr is and as whom. */
export interface ScalrOptions extends CommonOptions {
  scalrHostname?: string;
  scalrToken?: string;
}

/** `pool attach` options: an existing pool's id, or `createName` for a new pool. */
export interface AttachOptions extends ScalrOptions {
  poolId?: string;
  agentToken?: string;
  createName?: string;
}

/** `pool detach` options. */
export interface DetachOptions extends ScalrOptions {
  poolId: string;
  force?: boolean;
}

/** The stack's webhook URL, from the state file; undefined when the stack is not (fully) deployed. */
function stackWebhook(state: StackState | undefined): string | undefined {
  const invokeUrl = state?.resources.stage?.outputs.invokeUrl;
  return typeof invokeUrl === 'string' ? webhookUrl(invokeUrl) : undefined;
}

function requireWebhook(local: LocalStack, state: StackState | undefined): { state: StackState; url: string } {
  const url = stackWebhook(state);
  if (!state || !url) {
    throw new UsageError(
      `stack "${local.stack}" is not deployed (no webhook in ${local.statePath})`,
      'run `scalr-serverless up` first, or pass the --stack / --state of a deployed stack',
    );
  }
  return { state, url };
}

/** Another run may have written the state while this one waited for Scalr: read it again under the lock. */
async function lockedState(local: LocalStack): Promise<StackState | undefined> {
  return (await readState(local.statePath)) ?? local.state;
}

async function scalrClient(options: ScalrOptions, io: Io, secrets: string[] = []): Promise<{ client: ScalrClient; credentials: ScalrCredentials }> {
  const credentials = await resolveScalrCredentials({ hostnameFlag: options.scalrHostname, tokenFlag: options.scalrToken, env: process.env, homeDir: homedir() });
  io.secrets.add(credentials.token);
  credentials.warnings.forEach((line) => warn(io, line));
  const client = new ScalrClient({ scalrUrl: credentials.scalrUrl, token: credentials.token, secrets, userAgent: `scalr-serverless/${VERSION}`, log: (line) => info(io, line) });
  return { client, credentials };
}

/** A pool's token lives on the host that issued it: rotating or deleting it through another host would 404 and lose it. */
function checkRecordedHost(poolId: string, record: PoolRecord | undefined, credentials: ScalrCredentials): void {
  if (record && record.hostname !== credentials.hostname) {
    throw new UsageError(
      `agent pool ${poolId} was attached through ${record.hostname} (per the state file), but this run talks to ${credentials.hostname}`,
      `set SCALR_HOSTNAME=${record.hostname} (or --scalr-hostname) and run the command again`,
    );
  }
}

/** The handler (lambda-src/request.ts) refuses deliveries whose X-Scalr-Url host is not allowed, or not https. */
function checkHandlerAccepts(local: LocalStack, state: StackState, credentials: ScalrCredentials, io: Io): void {
  const host = new URL(credentials.scalrUrl).hostname;
  const allowed = state.settings.allowedScalrHosts ?? [];
  if (!hostAllowed(host, allowed)) {
    throw new UsageError(
      `stack "${local.stack}" accepts webhooks only for ${allowed.join(', ')}, so it would refuse every run of a pool on ${host}`,
      `run \`scalr-serverless up --stack ${local.stack} --allowed-scalr-host ${host}\` first (or --any-scalr-host)`,
    );
  }
  if (credentials.scalrUrl.startsWith('http:')) warn(io, 'the webhook handler accepts only an https X-Scalr-Url: with this http host no agent will start');
}

/** Points an agent pool's webhook at this stack, creating a pool token unless one is given; re-running rotates it. */
export async function attach(options: AttachOptions, io: Io) {
  if (options.poolId === undefined && options.createName === undefined) {
    throw new UsageError('pool attach needs an agent pool id (apool-...) or --create <name>', 'find the id under Account > Agent pools in Scalr');
  }
  if (options.createName === undefined) assertPoolId(options.poolId);
  else if (options.poolId !== undefined) throw new UsageError('give an agent pool id or --create <name>, not both');
  const local = await loadLocalStack(options);
  requireWebhook(local, local.state);
  const agent = resolveAgentToken({ agentTokenFlag: options.agentToken, env: process.env });
  io.secrets.add(agent.agentToken);
  agent.warnings.forEach((line) => warn(io, line));
  const { client, credentials } = await scalrClient(options, io, agent.agentToken ? [agent.agentToken] : []);
  const lock = await lockState(local.statePath, 'pool attach', (message) => warn(io, message));
  try {
    const { state, url } = requireWebhook(local, await lockedState(local));
    checkHandlerAccepts(local, state, credentials, io);
    const previous = options.poolId ? state.pools[options.poolId] : undefined;
    if (options.poolId) checkRecordedHost(options.poolId, previous, credentials);
    const { clients } = await connect(options, local);
    const apiKey = await apiKeyValue(clients, state, io);
    if (!apiKey) throw new UsageError(`stack "${local.stack}" has no API key`, 'run `scalr-serverless up` to repair the stack');
    client.addSecret(apiKey);
    info(io, `Attaching agent pool ${options.poolId ?? `"${options.createName}" (new)`} on ${credentials.hostname} to stack ${local.stack}...`);
    const attached = await attachPool(client, {
      poolId: options.poolId,
      createName: options.createName,
      webhookUrl: url,
      apiKey,
      scalrUrl: credentials.scalrUrl,
      agentToken: agent.agentToken,
      stackName: local.stack,
      previousTokenId: previous?.tokenId,
    });
    state.pools[attached.poolId] = { hostname: credentials.hostname, tokenId: attached.createdTokenId, attachedAt: new Date().toISOString() };
    await new StateWriter(local.statePath).save(state);
    if (attached.previousWebhookUrl) warn(io, `agent pool ${attached.poolId} sent its runs to ${attached.previousWebhookUrl} until now`);
    attached.warnings.forEach((line) => warn(io, line));
    const document = {
      stack: local.stack,
      scalrHost: credentials.hostname,
      poolId: attached.poolId,
      poolName: attached.poolName,
      poolCreated: attached.createdPool,
      webhookUrl: attached.webhookUrl,
      previousWebhookUrl: attached.previousWebhookUrl ?? null,
      token: attached.createdTokenId ? 'created' : 'given',
      tokenId: attached.createdTokenId ?? null,
      tokenRotated: Boolean(attached.deletedTokenId),
      deletedTokenId: attached.deletedTokenId ?? null,
      // Every warning printed on stderr (an http host, a token given as a flag, a re-pointed pool).
      warnings: [...(io.warnings ?? [])],
    };
    const tokenLine = attached.createdTokenId
      ? `  pool token: created ${attached.createdTokenId}${attached.deletedTokenId ? `, replacing ${attached.deletedTokenId} (deleted)` : ''}`
      : `  pool token: the one given in ${options.agentToken ? '--agent-token' : 'SCALR_AGENT_TOKEN'}${attached.deletedTokenId ? ` (the token ${attached.deletedTokenId} this stack created earlier was deleted)` : ''}`;
    const text = [`Agent pool ${attached.poolId} (${attached.poolName})${attached.createdPool ? ', created now,' : ''} on ${credentials.hostname} sends its runs to stack ${local.stack}.`, `  webhook:    ${attached.webhookUrl}`, tokenLine];
    result(io, text.join('\n'), document);
    return document;
  } finally {
    await lock.release();
  }
}

/** Turns a pool's webhook off, clears its headers and deletes the token attach created. */
export async function detach(options: DetachOptions, io: Io) {
  assertPoolId(options.poolId);
  const local = await loadLocalStack(options);
  const { client, credentials } = await scalrClient(options, io);
  const lock = local.state ? await lockState(local.statePath, 'pool detach', (message) => warn(io, message)) : undefined;
  try {
    const state = local.state ? await lockedState(local) : undefined;
    const record = state?.pools[options.poolId];
    checkRecordedHost(options.poolId, record, credentials);
    let detached: DetachPoolResult & { forgotten?: boolean };
    try {
      detached = await detachPool(client, { poolId: options.poolId, tokenId: record?.tokenId, expectedWebhookUrl: stackWebhook(state), force: options.force });
    } catch (error) {
      // A pool deleted in Scalr would keep its record, and `down` the state file, forever: --force forgets it.
      if (!(options.force && record && error instanceof ScalrApiError && error.status === 404)) throw error;
      if (record.tokenId) await deleteAccessToken(client, record.tokenId);
      warn(io, `agent pool ${options.poolId} is not on ${credentials.hostname} (404); --force: its record was removed from the state file`);
      detached = { poolId: options.poolId, poolName: options.poolId, deletedTokenId: record.tokenId, forgotten: true };
    }
    if (state && record) {
      delete state.pools[options.poolId];
      await new StateWriter(local.statePath).save(state);
    }
    const document = {
      stack: local.stack,
      scalrHost: credentials.hostname,
      poolId: detached.poolId,
      poolName: detached.poolName,
      previousWebhookUrl: detached.previousWebhookUrl ?? null,
      deletedTokenId: detached.deletedTokenId ?? null,
      stateRecordRemoved: Boolean(record),
      forgotten: Boolean(detached.forgotten),
    };
    const tokenNote = detached.deletedTokenId ? `; the pool token ${detached.deletedTokenId} this stack created was deleted` : '';
    const what = detached.forgotten ? 'forgotten' : 'webhook disabled and its headers cleared';
    result(io, `Agent pool ${detached.poolId} (${detached.poolName}): ${what}${tokenNote}.`, document);
    return document;
  } finally {
    await lock?.release();
  }
}

/** Lists the account's pools whose webhook is this stack's. */
export async function list(options: ScalrOptions, io: Io) {
  const local = await loadLocalStack(options);
  const { url } = requireWebhook(local, local.state);
  const { client, credentials } = await scalrClient(options, io);
  const pools = await listAttachedPools(client, { webhookUrl: url });
  const document = { stack: local.stack, scalrHost: credentials.hostname, webhookUrl: url, pools };
  const lines = pools.map((p) => `  ${p.id}  ${p.name}${p.webhookEnabled ? '' : '  (webhook disabled)'}`);
  result(io, () => (pools.length === 0 ? `No agent pool on ${credentials.hostname} points at ${url}.` : [`Agent pools whose webhook is ${url}:`, ...lines].join('\n')), document);
  return document;
}

/**
 * For `down`, before the webhook is deleted: detaches every pool the state file records, removing the
 * records of those done (saved through `save`). The caller holds the state lock. Pools that could not
 * be detached (no Scalr token, another host, a Scalr error) stay recorded and are returned in `left`.
 */
export async function detachRecordedPools(options: ScalrOptions, state: StackState, save: (state: StackState) => Promise<void>, io: Io): Promise<DetachPoolsResult> {
  const records = Object.entries(state.pools);
  if (records.length === 0) return { detached: [], released: [], left: [] };
  // Without a host named anywhere, the pools' own host is the one to talk to (not the scalr.io default).
  const hosts = [...new Set(records.map(([, record]) => record.hostname))];
  const hostNamed = options.scalrHostname ?? process.env.SCALR_HOSTNAME;
  const withHost = hostNamed || hosts.length !== 1 ? options : { ...options, scalrHostname: hosts[0] };
  let connection: Awaited<ReturnType<typeof scalrClient>>;
  try {
    connection = await scalrClient(withHost, io);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // Missing Scalr credentials are bad usage (exit 2) like any missing credential; say what else can be done.
    if (error instanceof UsageError) {
      throw new UsageError(
        `agent pool(s) ${records.map(([poolId]) => poolId).join(', ')} still point at this stack and cannot be detached: ${reason}; nothing was deleted`,
        'set SCALR_HOSTNAME and SCALR_TOKEN and run down again, or add --keep-pools to delete the stack anyway',
      );
    }
    return { detached: [], released: [], left: records.map(([poolId]) => ({ poolId, reason })) };
  }
  const { client, credentials } = connection;
  const elsewhere = records.filter(([, record]) => record.hostname !== credentials.hostname);
  const here = Object.fromEntries(records.filter(([, record]) => record.hostname === credentials.hostname));
  if (Object.keys(here).length > 0) info(io, `Detaching agent pool(s) ${Object.keys(here).join(', ')} on ${credentials.hostname} from stack ${state.stack}...`);
  const outcome = await detachPools(client, here, stackWebhook(state));
  for (const poolId of [...outcome.detached, ...outcome.released]) delete state.pools[poolId];
  if (outcome.detached.length + outcome.released.length > 0) await save(state);
  for (const [poolId, record] of elsewhere) outcome.left.push({ poolId, reason: `attached through ${record.hostname}, but SCALR_HOSTNAME names ${credentials.hostname}` });
  return outcome;
}
