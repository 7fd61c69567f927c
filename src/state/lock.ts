import { readFile, rm, writeFile, mkdir, stat } from 'node:fs/promises';
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
  /**
   * Aborted when the lock could not be kept (this process was paused past the stale time and another
   * run may hold it now): start nothing new and write the state file no more.
   */
  lost: AbortSignal;
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
  try {
    await mkdir(dirname(statePath), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw unwritable(statePath, error);
  }
  const ownerPath = `${statePath}.lock-owner`;
  const lockPath = `${statePath}.lock`;
  const lost = new AbortController();
  const options = {
    realpath: false,
    stale: LOCK_STALE_MS,
    update: LOCK_UPDATE_MS,
    retries: 0,
    lockfilePath: lockPath,
    // A compromised lock must not crash the run mid-step; it stops the run before the next one instead.
    onCompromised: () => {
      warn(`the lock on ${statePath} could not be kept (was this process paused?); stopping before another step`);
      lost.abort(
        new StateError('STATE_LOCK_LOST', `lost the lock on ${statePath}: another run may be changing the stack; stopped without writing more`, 'let the other run finish (or check that none is running), then run the command again'),
      );
    },
  };
  // proper-lockfile judges by age alone, so it would take over the lock of a live but paused process
  // (Ctrl-Z, a sleeping laptop). On this host we can ask: a live owner keeps its lock, however old.
  const current = await readOwner(ownerPath);
  if (current && current.hostname === hostname() && current.pid !== process.pid && isAlive(current.pid) && (await exists(lockPath))) {
    throw lockedError(statePath, current);
  }
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(statePath, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw unwritable(statePath, error);
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
  try {
    await writeFile(ownerPath, JSON.stringify(owner), { mode: 0o600 });
  } catch (error) {
    await release().catch(() => {});
    throw unwritable(statePath, error);
  }
  return {
    lost: lost.signal,
    async release() {
      await rm(ownerPath, { force: true });
      await release().catch(() => {});
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function unwritable(statePath: string, cause: unknown): StateError {
  return new StateError(
    'STATE_UNWRITABLE',
    `cannot write the state file ${statePath} or its lock: ${(cause as Error).message}`,
    'pass --state with a path in a folder you can write',
    cause,
  );
}

function lockedError(statePath: string, owner: LockOwner | undefined): StateError {
  const who = owner ? `process ${owner.pid} on ${owner.hostname} (${owner.command}, since ${owner.startedAt})` : 'another run';
  return new StateError(
    'STATE_LOCKED',
    `the state file ${statePath} is locked by ${who}`,
    'wait for that run to finish; a lock left by a process that died on this machine is taken over at once, one from another machine after 30 seconds',
  );
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}
