import { homedir } from 'node:os';
import { ScalrClient } from '../../scalr/client.js';
import { resolveAgentToken, resolveScalrCredentials, type ScalrCredentials } from '../../scalr/credentials.js';
import { assertPoolId, attachPool, detachPool, listAttachedPools } from '../../scalr/pools.js';
import { StateWriter, type StackState } from '../../state/state-file.js';
import { lockState } from '../../state/lock.js';
import { webhookUrl } from '../../stack.js';
import { UsageError } from '../../errors.js';
import { connect, loadLocalStack, type CommonOptions, type LocalStack } from '../stack-context.js';
import { apiKeyValue } from './outputs.js';
import { info, result, warn, type Io } from '../output.js';
import { VERSION } from '../version.js';

/** Options shared by the pool commands: where Scalr is and as whom. */
export interface ScalrOptions extends CommonOptions {
  scalrHostname?: string;
  scalrToken?: string;
}

/** `pool attach` options. */
export interface AttachOptions extends ScalrOptions {
  poolId: string;
  agentToken?: string;
  createName?: string;
}

/** The stack must be up: its webhook URL is in the state file, its key in API Gateway. */
function deployedWebhook(local: LocalStack): { state: StackState; url: string } {
  const invokeUrl = local.state?.resources.stage?.outputs.invokeUrl;
  if (!local.state || typeof invokeUrl !== 'string') {
    throw new UsageError(
      `stack "${local.stack}" is not deployed (no webhook in ${local.statePath})`,
      'run `scalr-serverless up` first, or pass the --stack / --state of a deployed stack',
    );
  }
  return { state: local.state, url: webhookUrl(invokeUrl) };
}

async function scalrClient(options: ScalrOptions, io: Io, secrets: string[] = []): Promise<{ client: ScalrClient; credentials: ScalrCredentials }> {
  const credentials = await resolveScalrCredentials({
    hostnameFlag: options.scalrHostname,
    tokenFlag: options.scalrToken,
    env: process.env,
    homeDir: homedir(),
  });
  io.secrets.add(credentials.token);
  credentials.warnings.forEach((line) => warn(io, line));
  const client = new ScalrClient({
    scalrUrl: credentials.scalrUrl,
    token: credentials.token,
    secrets,
    userAgent: `scalr-serverless/${VERSION}`,
    log: (line) => info(io, line),
  });
  return { client, credentials };
}

/** Points an agent pool's webhook at this stack, creating a pool token unless one is given. */
export async function attach(options: AttachOptions, io: Io) {
  if (!options.createName) assertPoolId(options.poolId);
  const local = await loadLocalStack(options);
  const { url } = deployedWebhook(local);
  const agent = resolveAgentToken({ agentTokenFlag: options.agentToken, env: process.env });
  io.secrets.add(agent.agentToken);
  agent.warnings.forEach((line) => warn(io, line));
  const { client, credentials } = await scalrClient(options, io, agent.agentToken ? [agent.agentToken] : []);
  const lock = await lockState(local.statePath, 'pool attach', (message) => warn(io, message));
  try {
    const { clients } = await connect(options, local);
    const state = local.state!;
    const apiKey = await apiKeyValue(clients, state, io);
    if (!apiKey) throw new UsageError(`stack "${local.stack}" has no API key`, 'run `scalr-serverless up` to repair the stack');
    client.addSecret(apiKey);
    const previous = state.pools[options.poolId];
    info(io, `Attaching agent pool ${options.createName ? `"${options.createName}" (new)` : options.poolId} on ${credentials.hostname} to stack ${local.stack}...`);
    const attached = await attachPool(client, {
      poolId: options.createName ? undefined : options.poolId,
      createName: options.createName,
      webhookUrl: url,
      apiKey,
      scalrUrl: credentials.scalrUrl,
      agentToken: agent.agentToken,
      stackName: local.stack,
      previousTokenId: previous?.tokenId,
    });
    attached.warnings.forEach((line) => warn(io, line));
    state.pools[attached.poolId] = { hostname: credentials.hostname, tokenId: attached.createdTokenId, attachedAt: new Date().toISOString() };
    await new StateWriter(local.statePath).save(state);
    const document = {
      poolId: attached.poolId,
      poolName: attached.poolName,
      createdPool: attached.createdPool,
      webhookUrl: attached.webhookUrl,
      tokenCreated: Boolean(attached.createdTokenId),
      previousTokenDeleted: Boolean(attached.deletedTokenId),
    };
    result(io, `Agent pool ${attached.poolId} (${attached.poolName}) is serverless now: its webhook is ${attached.webhookUrl}`, document);
    return document;
  } finally {
    await lock.release();
  }
}

/** `pool detach` options. */
export interface DetachOptions extends ScalrOptions {
  poolId: string;
}

/** Turns a pool's webhook off, clears its headers and deletes the token attach created. */
export async function detach(options: DetachOptions, io: Io) {
  assertPoolId(options.poolId);
  const local = await loadLocalStack(options);
  const { client } = await scalrClient(options, io);
  const lock = local.state ? await lockState(local.statePath, 'pool detach', (message) => warn(io, message)) : undefined;
  try {
    const record = local.state?.pools[options.poolId];
    const detached = await detachPool(client, { poolId: options.poolId, tokenId: record?.tokenId });
    if (local.state && record) {
      delete local.state.pools[options.poolId];
      await new StateWriter(local.statePath).save(local.state);
    }
    const document = { poolId: detached.poolId, tokenDeleted: Boolean(detached.deletedTokenId) };
    result(io, `Agent pool ${detached.poolId}: webhook disabled and its headers cleared${detached.deletedTokenId ? '; the token scalr-serverless created was deleted' : ''}.`, document);
    return document;
  } finally {
    await lock?.release();
  }
}

/** Lists the account's pools whose webhook is this stack's. */
export async function list(options: ScalrOptions, io: Io) {
  const local = await loadLocalStack(options);
  const { url } = deployedWebhook(local);
  const { client } = await scalrClient(options, io);
  const pools = await listAttachedPools(client, { webhookUrl: url });
  const document = { webhookUrl: url, pools };
  result(
    io,
    () =>
      pools.length === 0
        ? `No agent pool points at ${url}.`
        : [`Agent pools whose webhook is ${url}:`, ...pools.map((p) => `  ${p.id}  ${p.name}${p.webhookEnabled ? '' : '  (webhook disabled)'}`)].join('\n'),
    document,
  );
  return document;
}
