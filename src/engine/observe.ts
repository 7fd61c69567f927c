import type { Outputs, ResourceContext } from '../resources/contract.js';
import type { ResourceRecord } from '../state/state-file.js';
import { AwsOperationError, ScalrServerlessError } from '../errors.js';
import type { Reporter } from './events.js';
import { dependenciesOf, resolveProps, type DesiredResource } from './graph.js';
import { kindOf, type Observation, type Registry } from './plan.js';
import { runGraph } from './run-graph.js';

/** Reads are cheap and the SDK's adaptive retry absorbs throttling: read the whole stack in about one round. */
export const OBSERVE_CONCURRENCY = 24;

/**
 * Reads AWS for every resource, in parallel where the graph allows: a recorded resource is read by its
 * id; one the state file does not know is looked up by its deterministic name or tag (after a crash, or
 * with a lost state file), which needs its dependencies' ids, so lookups follow the graph. Reads only.
 */
export async function observe(
  desired: DesiredResource[],
  records: Record<string, ResourceRecord>,
  ctx: ResourceContext,
  registry: Registry,
  reporter: Reporter,
  concurrency = OBSERVE_CONCURRENCY,
): Promise<Map<string, Observation>> {
  const observations = new Map<string, Observation>();
  const desiredByKey = new Map(desired.map((resource) => [resource.key, resource]));
  const outputsOf = (key: string): Outputs | undefined => {
    const observation = observations.get(key);
    return observation && 'outputs' in observation ? observation.outputs : undefined;
  };

  const observeOne = async (key: string): Promise<void> => {
    const resource = desiredByKey.get(key);
    const record = records[key];
    const kind = kindOf(registry, record && (!resource || record.kind === resource.kind) ? record.kind : resource!.kind);
    const name = resource?.name ?? record.name;
    const stepCtx = { ...ctx, waiting: (message: string) => reporter.emit({ type: 'step-wait', key, label: kind.label, name, message }) };
    try {
      if (record && record.kind === kind.kind) {
        const seen = await kind.read(stepCtx, record.id, record.props);
        observations.set(
          key,
          seen ? { status: 'present', id: record.id, outputs: seen.outputs, observedProps: seen.props } : { status: 'gone' },
        );
        return;
      }
      if (!resource) return;
      const { props, unknown } = resolveProps(resource.props, outputsOf);
      // A dependency that does not exist means this cannot exist either (a subnet needs its VPC), except
      // for kinds found by their own name alone, which outlive what they reference.
      if (unknown && !kind.findsByName) {
        observations.set(key, { status: 'absent' });
        return;
      }
      const found = await kind.find(stepCtx, props);
      if (!found) {
        observations.set(key, { status: 'absent' });
        return;
      }
      // What it looks like now, so adopting one that is already as wanted writes nothing.
      const seen = await kind.read(stepCtx, found.id, props);
      observations.set(key, { status: 'found', id: found.id, outputs: { ...found.outputs, ...seen?.outputs }, observedProps: seen?.props });
    } catch (error) {
      if (error instanceof ScalrServerlessError) throw error;
      throw new AwsOperationError('reading', kind.label, name, error);
    }
  };

  const keys = [...new Set([...desired.map((r) => r.key), ...Object.keys(records)])];
  // A recorded resource is read by its id and needs nobody else's outputs, so all reads start at once;
  // only lookups by name wait for their dependencies' ids. A no-op `up` is then one round of reads deep.
  const dependencies = (key: string): string[] => {
    const resource = desiredByKey.get(key);
    const record = records[key];
    if (record && (!resource || record.kind === resource.kind)) return [];
    return resource ? dependenciesOf(resource.props) : [];
  };
  await runGraph(keys, dependencies, observeOne, concurrency);
  return observations;
}
