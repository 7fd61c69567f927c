import { beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readState, writeState, StateWriter, STATE_FORMAT_VERSION, type StackState } from '../../src/state/state-file.js';
import { DEFAULT_SETTINGS } from '../../src/settings.js';
import { StateError } from '../../src/errors.js';

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scalr-serverless-state-unit-'));
  path = join(dir, '.scalr-serverless', 'unit.json');
});

const state = (resources: StackState['resources'] = {}): StackState => ({
  formatVersion: STATE_FORMAT_VERSION,
  tool: 'scalr-serverless',
  stack: 'unit',
  region: 'us-east-1',
  settings: DEFAULT_SETTINGS,
  resources,
  pools: {},
  updatedAt: '',
});
const record = (id: string) => ({ kind: 'ec2.vpc', name: id, id, props: {}, outputs: { id }, dependsOn: [] });

async function stateError(promise: Promise<unknown>): Promise<StateError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  return error as StateError;
}

describe('reading the state file', () => {
  it('is undefined when there is none', async () => {
    expect(await readState(path)).toBeUndefined();
  });

  it('round-trips what was written, in a file only the user can read', async () => {
    await writeState(path, state({ vpc: record('vpc-1') }));
    expect((await readState(path))?.resources.vpc.id).toBe('vpc-1');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses a corrupt file with an error naming it and pointing at the backup, and leaves it byte for byte', async () => {
    await writeState(path, state({ vpc: record('vpc-1') }));
    await writeState(path, state({ vpc: record('vpc-2') }));
    const garbage = Buffer.from('{"formatVersion":1,"tool":"scalr-serverless","resources":{"vpc":{\u0000');
    await writeFile(path, garbage);
    const error = await stateError(readState(path));
    expect(error.code).toBe('STATE_CORRUPT');
    expect(error.message).toContain(path);
    expect(error.hint).toContain(`${path}.bak`);
    expect(await readFile(path)).toEqual(garbage);
  });

  it('a corrupt file with no backup beside it gets a hint that does not send the user looking for one', async () => {
    await mkdir(join(dir, '.scalr-serverless'));
    await writeFile(path, '{"formatVersion":');
    const error = await stateError(readState(path));
    expect(error.code).toBe('STATE_CORRUPT');
    expect(error.hint).not.toContain('.bak');
    expect(error.hint).toMatch(/move it aside/);
  });

  it('refuses valid JSON that is not a scalr-serverless state file', async () => {
    await mkdir(join(dir, '.scalr-serverless'));
    await writeFile(path, '{"version": 4, "resources": []}');
    expect((await stateError(readState(path))).code).toBe('STATE_CORRUPT');
  });

  it('refuses a newer format version, saying to upgrade', async () => {
    await writeState(path, { ...state(), formatVersion: STATE_FORMAT_VERSION + 1 });
    const before = await readFile(path);
    const error = await stateError(readState(path));
    expect(error.code).toBe('STATE_TOO_NEW');
    expect(error.message).toContain(`format version ${STATE_FORMAT_VERSION + 1}`);
    expect(error.hint).toMatch(/upgrade/);
    expect(await readFile(path)).toEqual(before);
  });
});

describe('writing the state file', () => {
  it('keeps the previous version as .bak and leaves no temporary file behind', async () => {
    await writeState(path, state({ vpc: record('vpc-1') }));
    await writeState(path, state({ vpc: record('vpc-2') }));
    expect(JSON.parse(await readFile(`${path}.bak`, 'utf8')).resources.vpc.id).toBe('vpc-1');
    expect((await readState(path))?.resources.vpc.id).toBe('vpc-2');
    expect((await readdir(join(dir, '.scalr-serverless'))).sort()).toEqual(['unit.json', 'unit.json.bak']);
  });

  it('a write killed before its rename leaves the previous file whole, and the next write succeeds', async () => {
    await writeState(path, state({ vpc: record('vpc-1') }));
    // What a SIGKILL between write and rename leaves: a half-written temporary beside the file.
    await writeFile(`${path}.${process.pid}.tmp`, '{"formatVersion":1,"tool":"scal');
    expect((await readState(path))?.resources.vpc.id).toBe('vpc-1');
    await writeState(path, state({ vpc: record('vpc-2') }));
    expect((await readState(path))?.resources.vpc.id).toBe('vpc-2');
  });
});

describe('StateWriter', () => {
  it('persists concurrent saves in call order, each a snapshot of the state when save was called', async () => {
    const writer = new StateWriter(path);
    const live = state();
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      live.resources[`r${i}`] = record(`id-${i}`);
      saves.push(writer.save(live));
    }
    live.resources.afterTheLastSave = record('never-saved');
    await Promise.all(saves);
    const onDisk = await readState(path);
    expect(Object.keys(onDisk!.resources)).toHaveLength(20);
    expect(onDisk!.resources.afterTheLastSave).toBeUndefined();
    expect(writer.writes).toBe(20);
    expect(Object.keys(JSON.parse(await readFile(`${path}.bak`, 'utf8')).resources)).toHaveLength(19);
  });

  it('a failed save rejects, and the next save still goes through', async () => {
    // The state directory's place is taken by a file, so the first save cannot create it.
    await writeFile(join(dir, '.scalr-serverless'), 'not a directory');
    const writer = new StateWriter(path);
    await expect(writer.save(state({ vpc: record('vpc-1') }))).rejects.toThrow();
    await rm(join(dir, '.scalr-serverless'));
    await writer.save(state({ vpc: record('vpc-2') }));
    expect((await readState(path))?.resources.vpc.id).toBe('vpc-2');
    expect(writer.writes).toBe(1);
  });

  it('writes nothing in dry-run mode', async () => {
    const writer = new StateWriter(path, true);
    await writer.save(state({ vpc: record('vpc-1') }));
    expect(await readState(path)).toBeUndefined();
    expect(writer.writes).toBe(0);
  });
});

describe('a state file whose JSON is valid but whose shape is not', () => {
  it('is a clear error naming the file, and the file is left as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scalr-serverless-shape-'));
    const base = { formatVersion: 1, tool: 'scalr-serverless', stack: 'x', region: 'us-east-1', settings: {}, resources: {}, pools: {} };
    const cases: Record<string, object> = {
      garbage: { resources: 'garbage' },
      record: { resources: { vpc: { id: 3 } } },
      nullResources: { resources: null },
      zones: { availabilityZones: 'us-east-1a' },
      pool: { pools: { 'apool-1': 'x' } },
      version0: { formatVersion: 0 },
      noStack: { stack: undefined },
      cpuText: { settings: { cpu: 'lots' } },
    };
    for (const [name, change] of Object.entries(cases)) {
      const path = join(dir, `${name}.json`);
      const text = JSON.stringify({ ...base, ...change });
      await writeFile(path, text);
      await expect(readState(path)).rejects.toMatchObject({ code: 'STATE_CORRUPT', message: expect.stringContaining(path) });
      expect(await readFile(path, 'utf8')).toBe(text);
    }
  });
});
