import { beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { observe } from '../../src/engine/observe.js';
import { plan, type Registry } from '../../src/engine/plan.js';
import { apply, destroy } from '../../src/engine/apply.js';
import { silentReporter } from '../../src/engine/events.js';
import type { DesiredResource } from '../../src/engine/graph.js';
import { ref } from '../../src/resources/contract.js';
import { StateWriter, STATE_FORMAT_VERSION, type StackState } from '../../src/state/state-file.js';
import { DEFAULT_SETTINGS } from '../../src/settings.js';
import { fakeCloud, fakeContext, type FakeCall, type FakeCloud } from '../helpers/fake-kinds.js';

let cloud: FakeCloud;
let registry: Registry;
let state: StackState;
let writer: StateWriter;

beforeEach(async () => {
  cloud = fakeCloud();
  registry = new Map([cloud.kind, cloud.immutableKind].map((kind) => [kind.kind, kind]));
  state = { formatVersion: STATE_FORMAT_VERSION, tool: 'scalr-serverless', stack: 'unit', region: 'us-east-1', settings: DEFAULT_SETTINGS, resources: {}, pools: {}, updatedAt: '' };
  writer = new StateWriter(join(await mkdtemp(join(tmpdir(), 'scalr-serverless-engine-')), 'unit.json'));
});

const thing = (key: string, props: DesiredResource['props'] = {}, kind = 'fake.thing'): DesiredResource => ({
  key,
  kind,
  name: `${key}-name`,
  props: { name: `${key}-name`, ...props },
});

/** A network-like graph: net <- subA, subB <- app; solo stands alone. */
const stack = (): DesiredResource[] => [
  thing('net'),
  thing('subA', { netId: ref('net') }),
  thing('subB', { netId: ref('net') }),
  thing('app', { subnets: [ref('subA'), ref('subB')], netArn: ref('net', 'arn') }),
  thing('solo'),
];

/** What `up` does: observe, plan, apply. */
async function up(desired: DesiredResource[], concurrency?: number) {
  const observations = await observe(desired, state.resources, fakeContext, registry, silentReporter);
  const planned = plan(desired, state.resources, observations, registry);
  await apply(planned, desired, observations, state, { ctx: fakeContext, registry, reporter: silentReporter, writer, concurrency });
  return planned;
}

const writesOf = (method: FakeCall['method']) => cloud.calls.filter((call) => call.method === method);
const callOf = (method: FakeCall['method'], key: string) => cloud.calls.find((call) => call.method === method && call.name === `${key}-name`)!;
const onDisk = async (): Promise<StackState> => JSON.parse(await readFile(writer.path, 'utf8'));
const maxOverlap = (calls: FakeCall[]) =>
  Math.max(...calls.map((a) => calls.filter((b) => b.startedAt <= a.startedAt && b.endedAt! > a.startedAt).length));

describe('apply', () => {
  it('creates each resource after everything it references, independent ones at the same time, with refs resolved', async () => {
    await up(stack());
    const creates = writesOf('create');
    expect(creates.map((call) => call.name).sort()).toEqual(['app-name', 'net-name', 'solo-name', 'subA-name', 'subB-name']);
    for (const [key, deps] of [['subA', ['net']], ['subB', ['net']], ['app', ['subA', 'subB', 'net']]] as const) {
      for (const dep of deps) expect(callOf('create', dep).endedAt!).toBeLessThanOrEqual(callOf('create', key).startedAt);
    }
    expect(callOf('create', 'subA').startedAt).toBeLessThan(callOf('create', 'subB').endedAt!);
    expect(callOf('create', 'app').props).toEqual({
      name: 'app-name',
      subnets: [state.resources.subA.id, state.resources.subB.id],
      netArn: `arn:fake:${state.resources.net.id}`,
    });
  });

  it('never runs more steps at once than its concurrency', async () => {
    const many = Array.from({ length: 6 }, (_, i) => thing(`t${i}`));
    await up(many, 2);
    expect(maxOverlap(writesOf('create'))).toBe(2);
    cloud = fakeCloud();
    registry = new Map([[cloud.kind.kind, cloud.kind]]);
    state.resources = {};
    await up(many);
    expect(maxOverlap(writesOf('create'))).toBeGreaterThan(2);
  });

  it('saves the state file after every step, so a dependant starts only once its dependencies are on disk', async () => {
    const seenOnDisk: Record<string, string[]> = {};
    cloud.onStart = async (call) => {
      seenOnDisk[call.name] = Object.keys((await onDisk().catch(() => ({ resources: {} }))).resources).sort();
    };
    await up(stack());
    expect(seenOnDisk['app-name']).toEqual(expect.arrayContaining(['net', 'subA', 'subB']));
    expect(seenOnDisk['subA-name']).toContain('net');
    expect(writer.writes).toBe(5);
    expect(Object.keys((await onDisk()).resources).sort()).toEqual(['app', 'net', 'solo', 'subA', 'subB']);
  });

  it('a failed step stops its dependants, lets the others finish and be saved, and names the resource', async () => {
    cloud.failNext('create', 'subA-name', new Error('AccessDenied: not allowed'));
    await expect(up(stack())).rejects.toThrow('creating Thing (subA-name): AccessDenied: not allowed');
    expect(writesOf('create').map((call) => call.name)).not.toContain('app-name');
    expect(Object.keys((await onDisk()).resources).sort()).toEqual(['net', 'solo', 'subB']);
    expect([...cloud.things.values()].map((t) => t.name).sort()).toEqual(['net-name', 'solo-name', 'subB-name']);

    // A second run resumes: only what is missing is created.
    cloud.calls.length = 0;
    await up(stack());
    expect(writesOf('create').map((call) => call.name).sort()).toEqual(['app-name', 'subA-name']);
    expect(cloud.things.size).toBe(5);
  });

  it('an up with nothing to change writes nothing, to AWS or to the state file', async () => {
    await up(stack());
    cloud.calls.length = 0;
    const writesBefore = writer.writes;
    const planned = await up(stack());
    expect(planned.steps.map((step) => step.action)).toEqual(['noop', 'noop', 'noop', 'noop', 'noop']);
    expect(cloud.calls.filter((call) => call.method !== 'read')).toEqual([]);
    expect(writer.writes).toBe(writesBefore);
  });

  it('recreates a resource deleted out of band and updates what references it with the new id', async () => {
    await up(stack());
    const oldId = state.resources.subA.id;
    cloud.things.delete(oldId);
    cloud.calls.length = 0;
    const planned = await up(stack());
    expect(planned.steps.find((step) => step.key === 'subA')).toMatchObject({ action: 'create', reason: expect.stringMatching(/deleted outside/) });
    const newId = state.resources.subA.id;
    expect(newId).not.toBe(oldId);
    expect(callOf('update', 'app').props?.subnets).toEqual([newId, state.resources.subB.id]);
    expect(writesOf('create').map((call) => call.name)).toEqual(['subA-name']);
    expect((await onDisk()).resources.app.props.subnets).toEqual([newId, state.resources.subB.id]);
  });

  it('replaces a resource of a kind without update when a prop changes', async () => {
    await up([thing('fixed', { size: 1 }, 'fake.immutable')]);
    const oldId = state.resources.fixed.id;
    await up([thing('fixed', { size: 2 }, 'fake.immutable')]);
    expect(cloud.calls.filter((c) => c.method === 'delete').map((c) => c.id)).toEqual([oldId]);
    expect([...cloud.things.values()].map((t) => t.props.size)).toEqual([2]);
  });
});

describe('adoption (a lost state file, or a crash before the save)', () => {
  it('records what it finds by name; updates it only when it differs from the stack', async () => {
    // given: net exists exactly as wanted, subA exists with a stale prop, nothing is recorded
    const net = await cloud.kind.create(fakeContext, { name: 'net-name' });
    await cloud.kind.create(fakeContext, { name: 'subA-name', netId: 'some-old-net' });
    cloud.calls.length = 0;
    const planned = await up(stack());
    expect(planned.steps.filter((step) => step.action === 'adopt').map((step) => step.key)).toEqual(['net', 'subA']);
    expect(state.resources.net.id).toBe(net.id);
    expect(writesOf('update').map((call) => call.name)).toEqual(['subA-name']);
    expect(callOf('update', 'subA').props?.netId).toBe(net.id);
    expect(cloud.things.size).toBe(5);
  });
});

describe('destroy', () => {
  it('deletes in reverse dependency order, saving after each delete', async () => {
    await up(stack());
    const seenOnDisk: Record<string, string[]> = {};
    cloud.onStart = async (call) => {
      seenOnDisk[call.name] = Object.keys((await onDisk()).resources).sort();
    };
    await destroy(Object.keys(state.resources), state, { ctx: fakeContext, registry, reporter: silentReporter, writer });
    for (const [key, dependants] of [['net', ['subA', 'subB', 'app']], ['subA', ['app']], ['subB', ['app']]] as const) {
      for (const dependant of dependants) expect(callOf('delete', dependant).endedAt!).toBeLessThanOrEqual(callOf('delete', key).startedAt);
      expect(seenOnDisk[`${key}-name`]).not.toEqual(expect.arrayContaining([...dependants]));
    }
    expect(cloud.things.size).toBe(0);
    expect((await onDisk()).resources).toEqual({});
  });

  it('a failed delete keeps the resource and everything it depends on recorded', async () => {
    await up(stack());
    cloud.failNext('delete', 'app-name', new Error('DependencyViolation: in use'));
    await expect(destroy(Object.keys(state.resources), state, { ctx: fakeContext, registry, reporter: silentReporter, writer })).rejects.toThrow(
      'deleting Thing (app-name): DependencyViolation: in use',
    );
    expect(Object.keys((await onDisk()).resources).sort()).toEqual(['app', 'net', 'subA', 'subB']);
  });
});

describe('the graph', () => {
  it('a cycle is an error that names the cycle', async () => {
    const cyclic = [thing('a', { x: ref('b') }), thing('b', { x: ref('c') }), thing('c', { x: ref('a') }), thing('d')];
    expect(() => plan(cyclic, {}, new Map(), registry)).toThrow(/cycle: a -> b -> c -> a/);
    await expect(up(cyclic)).rejects.toThrow(/cycle: a -> b -> c -> a/);
    expect(writesOf('create')).toEqual([]);
  });

  it('a reference to a resource the stack does not have is an error naming both', () => {
    expect(() => plan([thing('a', { x: ref('ghost') })], {}, new Map(), registry)).toThrow(/a references unknown resource ghost/);
  });
});
