import { mkdir, open, readFile, rename, copyFile, chmod, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Outputs, Props } from '../resources/contract.js';
import type { Settings } from '../settings.js';
import { StateError } from '../errors.js';

/** Bumped when the file's shape changes incompatibly; a newer file is refused, never rewritten. */
export const STATE_FORMAT_VERSION = 1;

/** What the state file remembers of one resource: enough to read, update and delete it. No secrets. */
export interface ResourceRecord {
  kind: string;
  name: string;
  id: string;
  /** The props last applied, refs resolved. */
  props: Props;
  outputs: Outputs;
  /** Keys this resource referenced when applied, so `down` can order deletes without the stack definition. */
  dependsOn: string[];
}

/** A Scalr agent pool attached to this stack; the token id (never its value) so re-attach can rotate it. */
export interface PoolRecord {
  hostname: string;
  tokenId?: string;
  attachedAt: string;
}

/** The whole state file. */
export interface StackState {
  formatVersion: number;
  tool: 'scalr-serverless';
  stack: string;
  region: string;
  accountId?: string;
  settings: Settings;
  availabilityZones?: string[];
  resources: Record<string, ResourceRecord>;
  pools: Record<string, PoolRecord>;
  updatedAt: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Default state file for a stack, relative to the working directory. */
export function defaultStatePath(stack: string): string {
  return resolve('.scalr-serverless', `${stack}.json`);
}

/** Reads the state file; undefined when it does not exist. A corrupt or newer file is an error, left untouched. */
export async function readState(path: string): Promise<StackState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateError('STATE_UNREADABLE', `cannot read state file ${path}: ${(error as Error).message}`);
  }
  let parsed: StackState;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const backup = existsSync(`${path}.bak`) ? `restore it from ${path}.bak, or ` : '';
    throw new StateError(
      'STATE_CORRUPT',
      `state file ${path} is not valid JSON (${(error as Error).message}); it was left untouched`,
      `${backup}move it aside and run the command again: up and down find the stack's resources by name and tag`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || parsed.tool !== 'scalr-serverless' || typeof parsed.formatVersion !== 'number') {
    throw new StateError(
      'STATE_CORRUPT',
      `${path} is not a scalr-serverless state file; it was left untouched`,
      `point --state at the right file, or move this one aside`,
    );
  }
  if (parsed.formatVersion > STATE_FORMAT_VERSION) {
    throw new StateError(
      'STATE_TOO_NEW',
      `state file ${path} has format version ${parsed.formatVersion}, newer than this scalr-serverless understands (${STATE_FORMAT_VERSION})`,
      'upgrade scalr-serverless (npx scalr-serverless@latest) and run the command again',
    );
  }
  const problem = shapeProblem(parsed);
  if (problem) {
    throw new StateError(
      'STATE_CORRUPT',
      `state file ${path} is damaged (${problem}); it was left untouched`,
      `${existsSync(`${path}.bak`) ? `restore it from ${path}.bak, or ` : ''}move it aside and run the command again: up and down find the stack's resources by name and tag`,
    );
  }
  return parsed;
}

const isStrings = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string');
const SETTING_TYPES: Record<string, (value: unknown) => boolean> = {
  cpu: (v) => typeof v === 'number',
  memory: (v) => typeof v === 'number',
  lambdaTimeout: (v) => typeof v === 'number',
  image: (v) => typeof v === 'string',
  allowAllIngress: (v) => typeof v === 'boolean',
  allowedScalrHosts: isStrings,
  taskPolicyArns: isStrings,
};

/** What is wrong with a parsed state file's shape, in words, or undefined when it is sound. */
function shapeProblem(state: StackState): string | undefined {
  const loose = state as unknown as Record<string, unknown>;
  if (!Number.isInteger(state.formatVersion) || state.formatVersion < 1) return 'formatVersion must be a whole number from 1';
  if (typeof loose.stack !== 'string' || typeof loose.region !== 'string') return '"stack" and "region" must be strings';
  if (!isRecord(loose.resources) || !isRecord(loose.pools)) return '"resources" and "pools" must be objects';
  if (loose.availabilityZones !== undefined && !isStrings(loose.availabilityZones)) return '"availabilityZones" must be a list of names';
  if (loose.settings !== undefined && !isRecord(loose.settings)) return '"settings" must be an object';
  for (const [name, check] of Object.entries(SETTING_TYPES)) {
    const value = (loose.settings as Record<string, unknown> | undefined)?.[name];
    if (value !== undefined && !check(value)) return `setting "${name}" has the wrong type`;
  }
  for (const [key, record] of Object.entries(state.resources as unknown as Record<string, unknown>)) {
    if (!isRecord(record) || typeof record.kind !== 'string' || typeof record.id !== 'string') return `resource "${key}" has no kind or id`;
  }
  for (const [poolId, record] of Object.entries(state.pools as unknown as Record<string, unknown>)) {
    if (!isRecord(record) || typeof record.hostname !== 'string') return `agent pool "${poolId}" has no hostname`;
  }
  return undefined;
}

/**
 * Replaces the state file atomically: write a temporary file, fsync it, keep the previous version as
 * `<file>.bak`, then rename over the original. A crash at any point leaves either the old or the new
 * file whole. Mode 0600: the file holds no secret, but it maps the user's account.
 */
export async function writeState(path: string, state: StackState): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // One fixed name: the lock allows one writer, so a killed run's leftover is simply overwritten.
  const temporary = `${path}.tmp`;
  const body = `${JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2)}\n`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(body, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await copyFile(path, `${path}.bak`);
    await chmod(`${path}.bak`, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      await unlink(temporary).catch(() => {});
      throw error;
    }
  }
  await rename(temporary, path);
  await syncDirectory(dirname(path));
}

async function syncDirectory(directory: string): Promise<void> {
  // fsync on the directory makes the rename itself durable; not every platform allows it.
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

/**
 * Serialises saves: steps finish concurrently, and each must be persisted before the next save starts,
 * in order, so the file on disk is always a complete state at some moment of the run.
 */
export class StateWriter {
  private queue: Promise<void> = Promise.resolve();
  /** Number of saves written; `up` on an unchanged stack writes none. */
  writes = 0;

  constructor(
    readonly path: string,
    private readonly dryRun = false,
    /** The lock's `lost` signal: once another run may own the state file, no save may overwrite it. */
    private readonly lost?: AbortSignal,
  ) {}

  save(state: StackState): Promise<void> {
    const snapshot = structuredClone(state);
    const next = this.queue.then(async () => {
      if (this.lost?.aborted) throw this.lost.reason;
      if (this.dryRun) return;
      await writeState(this.path, snapshot);
      this.writes++;
    });
    this.queue = next.catch(() => {});
    return next;
  }
}
