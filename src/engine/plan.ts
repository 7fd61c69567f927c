import type { Outputs, PlainValue, Props, ResourceKind } from '../resources/contract.js';
import type { ResourceRecord } from '../state/state-file.js';
import type { Action } from './events.js';
import { dependenciesOf, resolveProps, stableJson, topologicalOrder, UNKNOWN, type DesiredResource } from './graph.js';

/** What observing AWS found for one resource key. */
export type Observation =
  /** Recorded in the state file and still there. */
  | { status: 'present'; id: string; outputs: Outputs; observedProps?: Partial<Props> }
  /** Not recorded, but found by its deterministic name or tag: adopt it (converging what differs). */
  | { status: 'found'; id: string; outputs: Outputs; observedProps?: Partial<Props> }
  /** Recorded, but AWS says it is gone (deleted out of band). */
  | { status: 'gone' }
  /** Neither recorded nor found. */
  | { status: 'absent' };

/** One differing prop: what AWS (or the last apply) has, and what the stack wants. */
export interface PropChange {
  prop: string;
  from: PlainValue | undefined;
  to: PlainValue;
}

/** One step of a plan. */
export interface PlanStep {
  key: string;
  kind: string;
  label: string;
  name: string;
  action: Action;
  /** Why, in words: "new", "deleted outside scalr-serverless", "cpu changed". */
  reason: string;
  changes: PropChange[];
}

/** A whole plan: steps in dependency order (deletes of resources the stack no longer has come last). */
export interface Plan {
  steps: PlanStep[];
}

/** Looks kinds up by their `kind` string. */
export type Registry = ReadonlyMap<string, ResourceKind>;

/** Kind lookup that fails loudly: an unknown kind in a state file is written by a newer version. */
export function kindOf(registry: Registry, kind: string): ResourceKind {
  const found = registry.get(kind);
  if (!found) throw new Error(`unknown resource kind ${kind}`);
  return found;
}

/** The desired resources keyed, with their dependencies derived from refs. */
export function desiredGraph(desired: DesiredResource[]): { byKey: Map<string, DesiredResource>; order: string[] } {
  const byKey = new Map(desired.map((resource) => [resource.key, resource]));
  const order = topologicalOrder(new Map(desired.map((r) => [r.key, dependenciesOf(r.props)])));
  return { byKey, order };
}

/** Props that differ between what the stack wants and the baseline; UNKNOWN always differs. */
export function diffProps(wanted: Props, baseline: Partial<Props> | undefined): PropChange[] {
  const changes: PropChange[] = [];
  for (const [prop, to] of Object.entries(wanted)) {
    const from = baseline?.[prop];
    if (stableJson(to).includes(JSON.stringify(UNKNOWN)) || stableJson(to) !== stableJson(from)) {
      changes.push({ prop, from, to });
    }
  }
  return changes;
}

/**
 * The pure half: from what the stack wants, what the state file recorded and what AWS showed, decide
 * each resource's action. It makes no call and changes nothing, so `plan` and `up --dry-run` reuse it.
 */
export function plan(
  desired: DesiredResource[],
  records: Record<string, ResourceRecord>,
  observations: Map<string, Observation>,
  registry: Registry,
): Plan {
  const { byKey, order } = desiredGraph(desired);
  const steps = new Map<string, PlanStep>();
  // Outputs known before apply: those of resources that stay as they are. A create, a replace or an
  // update that may hand out a new id (a task definition revision) makes its dependants' values unknown.
  const knownOutputs = (key: string): Outputs | undefined => {
    const step = steps.get(key);
    const observation = observations.get(key);
    if (!step || step.action === 'create' || step.action === 'replace') return undefined;
    if (step.action === 'update' && kindOf(registry, step.kind).updateChangesId) return undefined;
    return observation && 'outputs' in observation ? observation.outputs : undefined;
  };

  for (const key of order) {
    const resource = byKey.get(key)!;
    const kind = kindOf(registry, resource.kind);
    const observation = observations.get(key) ?? { status: 'absent' };
    const { props } = resolveProps(resource.props, knownOutputs);
    const base = { key, kind: resource.kind, label: kind.label, name: resource.name };
    if (observation.status === 'absent' || observation.status === 'gone') {
      const reason = observation.status === 'gone' ? 'deleted outside scalr-serverless; recreating' : 'new';
      steps.set(key, { ...base, action: 'create', reason, changes: [] });
      continue;
    }
    if (observation.status === 'found') {
      steps.set(key, { ...base, action: 'adopt', reason: 'found by name; not in the state file', changes: [] });
      continue;
    }
    const record = records[key];
    const baseline = { ...record?.props, ...observation.observedProps };
    const changes = diffProps(props, baseline);
    if (changes.length === 0) {
      steps.set(key, { ...base, action: 'noop', reason: 'up to date', changes });
      continue;
    }
    const replace = !kind.update || changes.some((change) => kind.replaceOn.includes(change.prop));
    const reason = `${changes.map((change) => change.prop).join(', ')} changed`;
    steps.set(key, { ...base, action: replace ? 'replace' : 'update', reason, changes });
  }

  const removed = Object.entries(records)
    .filter(([key]) => !byKey.has(key))
    .map(([key, record]): PlanStep => ({
      key,
      kind: record.kind,
      label: kindOf(registry, record.kind).label,
      name: record.name,
      action: 'delete',
      reason: 'no longer part of the stack',
      changes: [],
    }));
  return { steps: [...order.map((key) => steps.get(key)!), ...removed] };
}

/** Counts of actions, for the closing summary. */
export function summarize(steps: PlanStep[]): Record<Action, number> {
  const counts: Record<Action, number> = { create: 0, adopt: 0, update: 0, replace: 0, delete: 0, noop: 0 };
  for (const step of steps) counts[step.action]++;
  return counts;
}
