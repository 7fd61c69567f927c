import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ResourceContext, Outputs, Props } from '../../src/resources/contract.js';
import { createAwsClients } from '../../src/aws/clients.js';
import { firstAvailabilityZones } from '../../src/aws/identity.js';
import { dependenciesOf, resolveProps, topologicalOrder, type DesiredResource } from '../../src/engine/graph.js';
import { kindOf } from '../../src/engine/plan.js';
import { registry } from '../../src/resources/registry.js';
import { desiredStack, stackTags } from '../../src/stack.js';
import { DEFAULT_SETTINGS } from '../../src/settings.js';
import { MOTO_ACCOUNT_ID } from '../helpers/moto.js';
import type { FaultProxy, ProxyCall } from '../helpers/fault-proxy.js';
import { callName, sequentialDepth } from './calls.js';

/** What one resource's step cost when run alone: its calls, their sequential depth, and its wall time. */
export interface StepCost {
  key: string;
  calls: string[];
  depth: number;
  wallMs: number;
}

/** Per-resource costs of a whole stack's find (from empty), create, read and delete, each run alone. */
export interface Replay {
  desired: DesiredResource[];
  order: string[];
  dependencies: (key: string) => string[];
  find: StepCost[];
  create: StepCost[];
  read: StepCost[];
  delete: StepCost[];
}

const REGION = 'us-east-1';

/** The desired stack exactly as `up` builds it for `stack` with default settings and dist/lambda.zip. */
export async function benchStack(ctx: ResourceContext, zipPath: string): Promise<DesiredResource[]> {
  const zip = await readFile(zipPath);
  const availabilityZones = await firstAvailabilityZones(ctx.clients, 2);
  return desiredStack(
    { stack: ctx.stack, region: REGION, accountId: MOTO_ACCOUNT_ID, availabilityZones },
    DEFAULT_SETTINGS,
    { zipPath, codeSha256: createHash('sha256').update(zip).digest('base64') },
  );
}

/**
 * Runs each resource's find, create, read and delete on its own, one after another, through the
 * proxy, and records which calls each made. This is how calls are attributed to resources: with
 * nothing else running, every call in a step's window is that step's. Leaves nothing behind.
 */
export async function replayStack(proxy: FaultProxy, stack: string, zipPath: string): Promise<Replay> {
  const clients = await createAwsClients({ region: REGION, endpointUrl: proxy.url, version: 'bench' });
  const ctx: ResourceContext = { clients, stack, region: REGION, accountId: MOTO_ACCOUNT_ID, tags: stackTags(stack), waiting: () => {} };
  const desired = await benchStack(ctx, zipPath);
  const byKey = new Map(desired.map((resource) => [resource.key, resource]));
  const dependencies = (key: string) => dependenciesOf(byKey.get(key)!.props);
  const order = topologicalOrder(new Map(desired.map((resource) => [resource.key, dependencies(resource.key)])));

  const measure = async (key: string, work: () => Promise<unknown>): Promise<StepCost> => {
    const mark = proxy.calls().length;
    const started = Date.now();
    await work();
    const wallMs = Date.now() - started;
    const calls: ProxyCall[] = proxy.calls().slice(mark);
    return { key, calls: calls.map(callName), depth: sequentialDepth(calls), wallMs };
  };

  // From empty, only resources whose props hold no refs can be looked up (observe skips the rest).
  const find: StepCost[] = [];
  for (const key of order) {
    const { props, unknown } = resolveProps(byKey.get(key)!.props, () => undefined);
    if (!unknown) find.push(await measure(key, () => kindOf(registry, byKey.get(key)!.kind).find(ctx, props)));
  }

  const outputs = new Map<string, Outputs>();
  const created = new Map<string, { id: string; props: Props }>();
  const create: StepCost[] = [];
  for (const key of order) {
    const resource = byKey.get(key)!;
    const { props } = resolveProps(resource.props, (dep) => outputs.get(dep));
    create.push(
      await measure(key, async () => {
        const result = await kindOf(registry, resource.kind).create(ctx, props);
        outputs.set(key, result.outputs);
        created.set(key, { id: result.id, props });
      }),
    );
  }

  const read: StepCost[] = [];
  for (const key of order) {
    const { id, props } = created.get(key)!;
    read.push(await measure(key, () => kindOf(registry, byKey.get(key)!.kind).read(ctx, id, props)));
  }

  const deletes: StepCost[] = [];
  for (const key of [...order].reverse()) {
    const { id, props } = created.get(key)!;
    deletes.push(await measure(key, () => kindOf(registry, byKey.get(key)!.kind).delete(ctx, id, props)));
  }
  for (const client of Object.values(clients)) client.destroy();
  return { desired, order, dependencies, find, create, read, delete: deletes };
}
