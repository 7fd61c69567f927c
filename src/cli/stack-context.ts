import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { AwsClients } from '../aws/clients.js';
import type { ResourceContext } from '../resources/contract.js';
import { defaultStatePath, readState, STATE_FORMAT_VERSION, type StackState } from '../state/state-file.js';
import { lockState, type StateLock } from '../state/lock.js';
import { DEFAULT_REGION, DEFAULT_SETTINGS, validateEndpointUrl, validateRegion, validateStackName, type Settings } from '../settings.js';
import { foreignRecords, stackTags, type LambdaPackage } from '../stack.js';
import type { DesiredResource } from '../engine/graph.js';
import { ScalrServerlessError, StateError, UsageError } from '../errors.js';
import { VERSION } from './version.js';

/** The options every stack command takes. */
export interface CommonOptions {
  stack: string;
  state?: string;
  region?: string;
  profile?: string;
  endpointUrl?: string;
}

/** What a command knows before it calls AWS: the stack, its state file and the region. */
export interface LocalStack {
  stack: string;
  statePath: string;
  state: StackState | undefined;
  region: string;
}

/**
 * Validates the common options and reads the state file, before any AWS call. The region comes from
 * --region, else the state file, else the environment and profile, else us-east-1; a --region that
 * contradicts the state file is refused (the stack lives where it was made).
 */
export async function loadLocalStack(options: CommonOptions): Promise<LocalStack> {
  const stack = validateStackName(options.stack);
  if (options.endpointUrl !== undefined) validateEndpointUrl(options.endpointUrl);
  if (options.state !== undefined && options.state.trim() === '') {
    throw new UsageError('--state is empty', 'give a file path, or leave --state out for .scalr-serverless/<stack>.json');
  }
  const statePath = options.state ?? defaultStatePath(stack);
  const state = await readState(statePath);
  if (state && state.stack !== stack) {
    throw new UsageError(
      `state file ${statePath} belongs to stack "${state.stack}", not "${stack}"`,
      `pass --stack ${state.stack}, or a different --state file`,
    );
  }
  const { regionFromEnvironment } = await import('../aws/region.js');
  const requested = options.region ?? state?.region ?? (await regionFromEnvironment(options.profile)) ?? DEFAULT_REGION;
  const region = validateRegion(requested);
  if (state && options.region && state.region !== options.region) {
    throw new UsageError(
      `stack "${stack}" lives in ${state.region} (per ${statePath}), not ${options.region}`,
      `drop --region, or use another --stack for a second region`,
    );
  }
  return { stack, statePath, state, region };
}

/**
 * Makes the AWS clients and learns the account, refusing a state file made in another account.
 * `alongside` runs in parallel with the identity call (another independent read, such as the AZs); a
 * credentials failure wins over its error, since it is the one the user must fix.
 */
export async function connect<T = undefined>(
  options: CommonOptions,
  local: LocalStack,
  alongside?: (clients: AwsClients) => Promise<T>,
): Promise<{ clients: AwsClients; accountId: string; also: T }> {
  const { createAwsClients } = await import('../aws/clients.js');
  const { callerAccount } = await import('../aws/identity.js');
  const clients = await createAwsClients({
    region: local.region,
    profile: options.profile,
    endpointUrl: options.endpointUrl,
    version: VERSION,
  });
  const [identity, also] = await Promise.allSettled([
    callerAccount(clients, options.profile),
    alongside ? alongside(clients) : Promise.resolve(undefined as T),
  ]);
  if (identity.status === 'rejected') throw identity.reason;
  if (also.status === 'rejected') throw also.reason;
  const { accountId } = identity.value;
  if (local.state?.accountId && local.state.accountId !== accountId) {
    throw new UsageError(
      `these AWS credentials are for account ${accountId}, but stack "${local.stack}" lives in account ${local.state.accountId}`,
      'switch to credentials for that account (AWS_PROFILE / --profile)',
    );
  }
  return { clients, accountId, also: also.value };
}

/**
 * Takes the state file's lock and reads the state again under it: another run may have written it
 * between our first read and the lock.
 */
export async function lockAndReload(local: LocalStack, command: string, warn: (message: string) => void): Promise<{ local: LocalStack; lock: StateLock }> {
  const lock = await lockState(local.statePath, command, warn);
  try {
    const state = await readState(local.statePath);
    return { local: { ...local, state }, lock };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** Stops before anything is changed when the state file lists resources that are not this stack's. */
export function refuseForeignRecords(records: StackState['resources'], desired: DesiredResource[], statePath: string, stack: string): void {
  const foreign = foreignRecords(records, desired);
  if (foreign.length === 0) return;
  throw new StateError(
    'STATE_FOREIGN',
    `state file ${statePath} lists resources that are not part of stack "${stack}": ${foreign.join('; ')}; nothing was changed`,
    `remove those entries from the file (or restore ${statePath}.bak); scalr-serverless deletes only its own stack's resources`,
  );
}

/** A fresh state for a stack that has none yet. */
export function newState(local: LocalStack, accountId: string, settings: Settings): StackState {
  return {
    formatVersion: STATE_FORMAT_VERSION,
    tool: 'scalr-serverless',
    stack: local.stack,
    region: local.region,
    accountId,
    settings,
    resources: {},
    pools: {},
    updatedAt: new Date().toISOString(),
  };
}

/** The settings a stack had, or the defaults: `up` with no flags keeps what the last `up` set. */
export function rememberedSettings(state: StackState | undefined): Settings {
  return { ...DEFAULT_SETTINGS, ...state?.settings };
}

/** The context resources get: clients, identity, tags. */
export function resourceContext(
  clients: AwsClients,
  local: LocalStack,
  accountId: string,
  waiting: (message: string) => void = () => {},
): ResourceContext {
  return { clients, stack: local.stack, region: local.region, accountId, tags: stackTags(local.stack), waiting };
}

/**
 * Ctrl-C (or SIGTERM from a CI runner) during up/down: start no new step, let the ones under way finish
 * and be saved, then stop with a message saying a re-run finishes the job. A second Ctrl-C exits at once.
 */
export function interruptSignal(what: string): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(
      new ScalrServerlessError('INTERRUPTED', `${what} interrupted by ${name}: the steps under way were finished and saved`, {
        hint: `run the same command again to finish; nothing is left untracked`,
      }),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed terminal or a dropped SSH session: finish the steps under way rather than die mid-step.
  process.on('SIGHUP', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
    },
  };
}

/** dist/lambda.zip beside the built CLI, and the sha256 Lambda will report for it. */
export async function lambdaPackage(): Promise<LambdaPackage> {
  const zipPath = fileURLToPath(new URL('./lambda.zip', import.meta.url));
  let bytes: Buffer;
  try {
    bytes = await readFile(zipPath);
  } catch (error) {
    throw new ScalrServerlessError('NO_PACKAGE', `the Lambda package ${zipPath} is missing: ${(error as Error).message}`, {
      source: 'internal',
      hint: 'run `npm run build` (a published package always includes it)',
    });
  }
  return { zipPath, codeSha256: createHash('sha256').update(bytes).digest('base64') };
}
