import { observe } from '../../engine/observe.js';
import { plan as makePlan, summarize, type Plan } from '../../engine/plan.js';
import { apply } from '../../engine/apply.js';
import { ACTION_WORDS, type Action, type EngineEvent } from '../../engine/events.js';
import { stableJson } from '../../engine/graph.js';
import { registry } from '../../resources/registry.js';
import { desiredStack } from '../../stack.js';
import { StateWriter } from '../../state/state-file.js';
import type { StateLock } from '../../state/lock.js';
import { validateSettings, type Settings } from '../../settings.js';
import { firstAvailabilityZones } from '../../aws/identity.js';
import { connect, interruptSignal, lockAndReload, refuseForeignRecords, lambdaPackage, loadLocalStack, newState, rememberedSettings, resourceContext, type CommonOptions } from '../stack-context.js';
import { formatDuration } from '../reporter.js';
import { createReporter } from '../reporter.js';
import { info, result, warn, type Io } from '../output.js';
import { apiKeyValue, readOutputs, renderOutputs, type StackOutputs } from './outputs.js';
import { renderPlan } from './plan-view.js';

/** `up` and `plan`: flags that change settings are partial; what is not given is remembered. */
export interface UpOptions extends CommonOptions {
  settings: Partial<Settings>;
  dryRun: boolean;
  showSecrets: boolean;
}

/** What `up` did, as `--json` prints it. */
export interface UpResult {
  stack: string;
  region: string;
  accountId: string;
  dryRun: boolean;
  stateFile: string;
  plan: Plan['steps'];
  summary: ReturnType<typeof summarize>;
  outputs?: StackOutputs;
}

const AVAILABILITY_ZONE_COUNT = 2;

/** Creates what is missing and converges what exists; with dryRun, only plans (reads only, no writes). */
export async function up(options: UpOptions, io: Io): Promise<UpResult> {
  let local = await loadLocalStack(options);
  let settings = validateSettings({ ...rememberedSettings(local.state), ...options.settings });
  const lambda = await lambdaPackage();
  const started = Date.now();
  // Credentials are checked before the lock is taken, so a missing credential leaves no trace on disk.
  const { clients, accountId, also: zones } = await connect(options, local, (clients) =>
    local.state?.availabilityZones ? Promise.resolve(local.state.availabilityZones) : firstAvailabilityZones(clients, AVAILABILITY_ZONE_COUNT),
  );
  let lock: StateLock | undefined;
  if (!options.dryRun) {
    ({ local, lock } = await lockAndReload(local, 'up', (message) => warn(io, message)));
    settings = validateSettings({ ...rememberedSettings(local.state), ...options.settings });
  }
  const reporter = await createReporter(io);
  const interrupt = interruptSignal('up');
  try {
    const state = local.state ?? newState(local, accountId, settings);
    state.accountId = accountId;
    const availabilityZones = state.availabilityZones ?? zones;
    const desired = desiredStack({ stack: local.stack, region: local.region, accountId, availabilityZones }, settings, lambda);
    const ctx = { ...resourceContext(clients, local, accountId), signal: lock ? AbortSignal.any([interrupt.signal, lock.lost]) : interrupt.signal };

    info(io, `Reading stack ${local.stack} in ${local.region} (account ${accountId})...`);
    refuseForeignRecords(state.resources, desired, local.statePath, local.stack);
    const observations = await observe(desired, state.resources, ctx, registry, reporter);
    const planned = makePlan(desired, state.resources, observations, registry);
    const summary = summarize(planned.steps);
    const base = { stack: local.stack, region: local.region, accountId, dryRun: options.dryRun, stateFile: local.statePath, plan: planned.steps, summary };

    if (options.dryRun) {
      const outputs = local.state ? await readOutputs(clients, state, options.showSecrets, io) : undefined;
      result(io, () => renderPlan(planned, local.stack), { ...base, outputs });
      return { ...base, outputs };
    }

    const writer = new StateWriter(local.statePath, false, lock?.lost);
    let keyRead: Promise<string | undefined> | undefined;
    const changed = planned.steps.some((step) => step.action !== 'noop');
    const settingsChanged = stableJson(state.settings) !== stableJson(settings) || !state.availabilityZones;
    if (changed || settingsChanged || !local.state) {
      state.settings = settings;
      state.availabilityZones = availabilityZones;
      await writer.save(state);
    }
    if (changed) info(io, renderPlan(planned, local.stack, { compact: true }));
    try {
      // The outputs' one read (the key's value) overlaps the steps after the key instead of following
      // them; a failed read only means the key is shown as unknown, so it never rejects.
      const readKey = () => (keyRead ??= apiKeyValue(clients, state, io).catch(() => undefined));
      if (planned.steps.find((step) => step.key === 'apiKey')?.action === 'noop') readKey();
      const keyReporter = {
        emit(event: EngineEvent) {
          reporter.emit(event);
          if (event.type === 'step-done' && event.key === 'apiKey') readKey();
        },
      };
      await apply(planned, desired, observations, state, { ctx, registry, reporter: keyReporter, writer });
    } finally {
      reporter.stopAll();
    }
    const outputs = await readOutputs(clients, state, options.showSecrets, io, keyRead);
    const done = Object.entries(summary).filter(([action, count]) => action !== 'noop' && count > 0).map(([action, count]) => `${count} ${ACTION_WORDS[action as Action].done}`);
    info(
      io,
      changed
        ? `Stack ${local.stack} is up in ${formatDuration(Date.now() - started)}: ${done.join(', ')}, ${summary.noop} unchanged.`
        : `Stack ${local.stack} was already up to date: nothing changed.`,
    );
    result(io, () => renderOutputs(outputs), { ...base, outputs });
    return { ...base, outputs };
  } finally {
    interrupt.dispose();
    reporter.stopAll();
    await lock?.release();
  }
}

