import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import lockfile from 'proper-lockfile';
import { StateError } from '../errors.js';

/**
 * proper-lockfile refreshes the lock's mtime every LOCK_UPDATE_MS; a lock not refreshed for
 * LOCK_STALE_MS is stale (its owner died on any host). On this host we can tell sooner: the owner's pid.
 */
const LOCK_STALE_MS = 30_000;
const LOCK_UPDATE_MS = 10_000;

/** The holder of a lock, written beside it so the next run can tell a dead owner from a live one. */
interface LockOwner {
  pid: number;
  hostname: string;
  command: string;
  startedAt: string;
}

/** A held lock; release it when the command ends. */
export interface StateLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock beside the state file (`<state>.lock`), so two runs never write one state. A lock whose
 * owner is a dead process on this host is taken over, and `warn` says so; a live owner is a clear error.
 */
export async function lockState(statePath: string, command: string, warn: (message: string) => void): Promise<StateLock> {
  await mkdir(dirname(statePath), { recursive: true, mode: 0o700 });
  const ownerPath = `${statePath}.lock-owner`;
  const options = {
    realpath: false,
    stale: LOCK_STALE_MS,
    update: LOCK_UPDATE_MS,
    retries: 0,
    lockfilePath: `${statePath}.lock`,
    // A compromised lock (its mtime could not be refreshed) must not crash the run mid-apply.
    onCompromised: () => warn(`the lock on ${statePath} could not be refreshed; another run may take it over`),
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(statePath, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const owner = await readOwner(ownerPath);
    if (owner && owner.hostname === hostname() && !isAlive(owner.pid)) {
      warn(`taking over the lock on ${statePath}: it was left by process ${owner.pid} (${owner.command}), which is no longer running`);
      await rm(`${statePath}.lock`, { recursive: true, force: true });
      try {
        release = await lockfile.lock(statePath, options);
      } catch (raced) {
        // Another run took the dead lock over at the same moment: it holds the lock now.
        if ((raced as NodeJS.ErrnoException).code === 'ELOCKED') throw lockedError(statePath, await readOwner(ownerPath));
        throw raced;
      }
    } else {
      throw lockedError(statePath, owner);
    }
  }
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), command, startedAt: new Date().toISOString() };
  await writeFile(ownerPath, JSON.stringify(owner), { mode: 0o600 });
  return {
    async release() {
      await rm(ownerPath, { force: true });
      await release().catch(() => {});
    },
  };
}

function lockedError(statePath: string, owner: LockOwner | undefined): StateError {
  const who = owner ? `process ${owner.pid} on ${owner.hostname} (${owner.command}, since ${owner.startedAt})` : 'another run';
  return new StateError(
    'STATE_LOCKED',
    `the state file ${statePath} is locked by ${who}`,
    'wait for that run to finish; if it is gone, the lock is released automatically after 30 seconds',
  );
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}
