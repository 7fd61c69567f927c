import type { Created, Outputs, ResourceContext } from '../resources/contract.js';
import type { StackState, StateWriter } from '../state/state-file.js';
import { AwsOperationError, ScalrServerlessError } from '../errors.js';
import { ACTION_WORDS, type Action, type Reporter } from './events.js';
import { dependenciesOf, resolveProps, type DesiredResource } from './graph.js';
import { diffProps, kindOf, type Observation, type Plan, type PlanStep, type Registry } from './plan.js';
import { runGraph, DEFAULT_CONCURRENCY } from './run-graph.js';

/** Everything apply and destroy need; the engine gets it injected and prints nothing. */
export interface EngineContext {
  ctx: ResourceContext;
  registry: Registry;
  reporter: Reporter;
  writer: StateWriter;
  concurrency?: number;
}

/**
 * Carries out a plan: each step starts once the steps it references are done, independent steps run
 * concurrently, and the state file is saved after every step that changed something, so a run killed at
 * any point leaves a state file that names everything created so far. `state` is updated in place.
 */
export async function apply(
  planned: Plan,
  desired: DesiredResource[],
  observations: Map<string, Observation>,
  state: StackState,
  engine: EngineContext,
): Promise<void> {
  const { ctx, registry, reporter, writer } = engine;
  const byKey = new Map(desired.map((resource) => [resource.key, resource]));
  const steps = new Map(planned.steps.map((step) => [step.key, step]));
  const outputs = new Map<string, Outputs>();
  for (const [key, observation] of observations) if ('outputs' in observation) outputs.set(key, observation.outputs);

  const runStep = async (key: string): Promise<void> => {
    const step = steps.get(key)!;
    const resource = byKey.get(key)!;
    const kind = kindOf(registry, resource.kind);
    const { props } = resolveProps(resource.props, (dep) => outputs.get(dep));
    const record = state.resources[key];
    let action: Action = step.action;
    if (action === 'noop' || action === 'update') {
      // Values that were unknown at plan time are known now; an update may turn out to be a no-op.
      const observation = observations.get(key);
      const baseline = { ...record?.props, ...(observation?.status === 'present' ? observation.observedProps : {}) };
      const changes = diffProps(props, baseline);
      if (changes.length === 0) action = 'noop';
      else if (!kind.update || changes.some((change) => kind.replaceOn.includes(change.prop))) action = 'replace';
      else action = 'update';
    }
    const save = async (created: Created): Promise<void> => {
      outputs.set(key, created.outputs);
      state.resources[key] = {
        kind: kind.kind,
        name: resource.name,
        id: created.id,
        props,
        outputs: created.outputs,
        dependsOn: dependenciesOf(resource.props),
      };
      await writer.save(state);
    };
    if (action === 'noop') {
      // Nothing to write: a no-op `up` makes reads only and leaves the state file as it was.
      if (record && JSON.stringify(record.props) !== JSON.stringify(props)) await save({ id: record.id, outputs: outputs.get(key)! });
      return;
    }
    await timed(reporter, step, action, async (stepCtx) => {
      const observation = observations.get(key);
      if (action === 'create') return save(await kind.create(stepCtx, props));
      if (action === 'adopt' && observation?.status === 'found') {
        // Record it first, so even a failed convergence leaves it in the state file for `down`.
        await save({ id: observation.id, outputs: observation.outputs });
        // Converge only what differs: a prop `read` cannot observe counts as differing (nothing was
        // recorded to compare it with), so a half-made resource from a killed run is always finished,
        // while one already as wanted is left alone (an update may mint a new id, e.g. a revision).
        const differs = diffProps(props, observation.observedProps ?? {}).length > 0;
        if (kind.update && differs) await save(await kind.update(stepCtx, observation.id, props, props));
        return;
      }
      if (action === 'update' && record) return save(await kind.update!(stepCtx, record.id, props, record.props));
      if (record) {
        await kind.delete(stepCtx, record.id, record.props);
        delete state.resources[key];
        await writer.save(state);
      }
      return save(await kind.create(stepCtx, props));
    }, ctx);
  };

  const keys = planned.steps.filter((step) => step.action !== 'delete').map((step) => step.key);
  await runGraph(keys, (key) => dependenciesOf(byKey.get(key)!.props), runStep, engine.concurrency ?? DEFAULT_CONCURRENCY, ctx.signal);

  const removed = planned.steps.filter((step) => step.action === 'delete').map((step) => step.key);
  if (removed.length > 0) await destroy(removed, state, engine);
}

/**
 * Deletes the given recorded resources, each only after everything that depends on it is gone (the
 * apply graph with its edges reversed), concurrently where independent. Each delete is saved at once.
 */
export async function destroy(keys: string[], state: StackState, engine: EngineContext): Promise<void> {
  const { ctx, registry, reporter, writer } = engine;
  // Taken once, before anything is deleted: a step is done only when its removal is saved, so a
  // dependency never starts while the file still lists a dependant (reading `state` live would let it
  // start the moment the record leaves memory, before it leaves the disk).
  const dependentsOf = new Map(keys.map((key) => [key, keys.filter((other) => state.resources[other]?.dependsOn.includes(key))]));
  const dependents = (key: string): string[] => dependentsOf.get(key) ?? [];
  const deleteOne = async (key: string): Promise<void> => {
    const record = state.resources[key];
    if (!record) return;
    const kind = kindOf(registry, record.kind);
    const step: PlanStep = { key, kind: record.kind, label: kind.label, name: record.name, action: 'delete', reason: '', changes: [] };
    await timed(reporter, step, 'delete', async (stepCtx) => {
      await kind.delete(stepCtx, record.id, record.props);
      delete state.resources[key];
      await writer.save(state);
    }, ctx);
  };
  await runGraph(keys, dependents, deleteOne, engine.concurrency ?? DEFAULT_CONCURRENCY, ctx.signal);
}

async function timed(
  reporter: Reporter,
  step: PlanStep,
  action: Action,
  work: (stepCtx: ResourceContext) => Promise<void>,
  ctx: ResourceContext,
): Promise<void> {
  const { key, label, name } = step;
  const started = Date.now();
  const stepCtx: ResourceContext = {
    ...ctx,
    waiting: (message) => reporter.emit({ type: 'step-wait', key, label, name, message }),
  };
  reporter.emit({ type: 'step-start', key, label, name, action });
  try {
    await work(stepCtx);
  } catch (cause) {
    const error = cause instanceof ScalrServerlessError ? cause : new AwsOperationError(ACTION_WORDS[action].doing, label, name, cause);
    reporter.emit({ type: 'step-failed', key, label, name, action, error, durationMs: Date.now() - started });
    throw error;
  }
  reporter.emit({ type: 'step-done', key, label, name, action, durationMs: Date.now() - started });
}
