import { beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockState } from '../../src/state/lock.js';
import { StateError } from '../../src/errors.js';

let statePath: string;
let warnings: string[];
const warn = (message: string) => warnings.push(message);

beforeEach(async () => {
  statePath = join(await mkdtemp(join(tmpdir(), 'scalr-serverless-lock-')), '.scalr-serverless', 'unit.json');
  warnings = [];
});

/** The pid of a process that has exited: what a killed run leaves in its owner file. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/** What a run killed while holding the lock leaves: proper-lockfile's directory and our owner file. */
async function leftLock(owner: { pid: number; hostname: string }, ageMs = 0): Promise<void> {
  await mkdir(`${statePath}.lock`, { recursive: true });
  const when = new Date(Date.now() - ageMs);
  await utimes(`${statePath}.lock`, when, when);
  await writeFile(`${statePath}.lock-owner`, JSON.stringify({ ...owner, command: 'up', startedAt: when.toISOString() }));
}

async function lockedError(): Promise<StateError> {
  const error = await lockState(statePath, 'down', warn).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  expect((error as StateError).code).toBe('STATE_LOCKED');
  return error as StateError;
}

describe('the state lock', () => {
  it('a live process on this host keeps its lock even when the lock went stale (paused by Ctrl-Z, a sleeping laptop)', async () => {
    // given: a live process that "holds" a lock nobody refreshed for an hour
    const paused = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await leftLock({ pid: paused.pid!, hostname: hostname() }, 3_600_000);
      // then: it is not taken over by age; the error names the live holder
      const error = await lockedError();
      expect(error.message).toContain(`process ${paused.pid}`);
      expect(warnings).toEqual([]);
    } finally {
      paused.kill('SIGKILL');
    }
  });

  it('a state file in a folder that cannot be created is a clear user error, not a crash', async () => {
    // given: --state under a path whose "folder" is a plain file
    const file = join(await mkdtemp(join(tmpdir(), 'scalr-serverless-lock-')), 'not-a-folder');
    await writeFile(file, '');
    const error = await lockState(join(file, 'unit.json'), 'up', warn).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).code).toBe('STATE_UNWRITABLE');
    expect((error as StateError).hint).toContain('--state');
  });

  it('one run at a time: a second run gets a clear error naming the live holder', async () => {
    const lock = await lockState(statePath, 'up', warn);
    const error = await lockedError();
    expect(error.message).toContain(statePath);
    expect(error.message).toContain(`process ${process.pid} on ${hostname()} (up`);
    expect(error.hint).toMatch(/wait for that run to finish/);
    await lock.release();
  });

  it('release frees it for the next run and removes the owner file', async () => {
    const first = await lockState(statePath, 'up', warn);
    await first.release();
    await expect(access(`${statePath}.lock-owner`)).rejects.toThrow();
    const second = await lockState(statePath, 'up', warn);
    await second.release();
    expect(warnings).toEqual([]);
  });

  it('a lock left by a dead process on this host is taken over at once, with a warning', async () => {
    const pid = await deadPid();
    await leftLock({ pid, hostname: hostname() });
    const lock = await lockState(statePath, 'up', warn);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`taking over the lock on .*unit\\.json: it was left by process ${pid} \\(up\\), which is no longer running`))]);
    await lock.release();
  });

  it('a fresh lock held on another host is not taken over, even if its pid is unused here', async () => {
    await leftLock({ pid: await deadPid(), hostname: 'ci-runner-elsewhere' });
    const error = await lockedError();
    expect(error.message).toContain('on ci-runner-elsewhere');
    expect(warnings).toEqual([]);
  });

  it('a lock nobody refreshed for longer than the stale limit is taken over, wherever its owner ran', async () => {
    await leftLock({ pid: 1, hostname: 'ci-runner-elsewhere' }, 5 * 60_000);
    const lock = await lockState(statePath, 'up', warn);
    await lock.release();
  });

  it('a fresh lock with no owner file yet (a run just starting) is respected', async () => {
    await mkdir(`${statePath}.lock`, { recursive: true });
    expect((await lockedError()).message).toContain('locked by another run');
  });
});
