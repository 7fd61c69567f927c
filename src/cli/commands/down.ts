import { rm } from 'node:fs/promises';
import { observe } from '../../engine/observe.js';
import { destroy } from '../../engine/apply.js';
import { dependenciesOf, resolveProps } from '../../engine/graph.js';
import { registry } from '../../resources/registry.js';
import { stopClusterTasks } from '../../resources/ecs-cluster.js';
import { desiredStack, stackNames } from '../../stack.js';
import { StateWriter } from '../../state/state-file.js';
import type { StateLock } from '../../state/lock.js';
import { firstAvailabilityZones } from '../../aws/identity.js';
import { ScalrServerlessError, UsageError } from '../../errors.js';
import { connect, interruptSignal, lockAndReload, refuseForeignRecords, lambdaPackage, loadLocalStack, newState, rememberedSettings, resourceContext, type CommonOptions } from '../stack-context.js';
import { createReporter } from '../reporter.js';
import { info, result, warn, type Io } from '../output.js';

/** `down` options: consent is needed, by prompt on a terminal or --yes. */
export interface DownOptions extends CommonOptions {
  yes: boolean;
  /** Delete the stack even when agent pools still point at it (they then get no agents). */
  keepPools: boolean;
}

/** What `down` removed, as `--json` prints it. */
export interface DownResult {
  stack: string;
  region: string;
  deleted: { key: string; kind: string; name: string }[];
  stoppedTasks: number;
  detachedPools: string[];
  detachedPoolsLeft: string[];
}

/**
 * Deletes everything the stack has, in reverse dependency order. Works without a state file too (a CI
 * runner's lost workspace): it finds the stack's resources by their deterministic names and tags.
 */
export async function down(options: DownOptions, io: Io): Promise<DownResult> {
  let local = await loadLocalStack(options);
  if (!options.yes) {
    if (!io.interactive || io.json) {
      throw new UsageError('down deletes the whole stack and needs consent', 'add --yes to confirm (there is no prompt off a terminal, under CI=true or with --json)');
    }
    const ok = await io.confirm(`Delete every resource of stack "${local.stack}" in ${local.region}? [y/N] `);
    if (!ok) throw new UsageError('down cancelled: nothing was deleted');
  }
  // Credentials are checked before the lock is taken, so a missing credential leaves no trace on disk.
  const { clients, accountId, also: zones } = await connect(options, local, (clients) =>
    local.state?.availabilityZones ? Promise.resolve(local.state.availabilityZones) : firstAvailabilityZones(clients, 2),
  );
  let lock: StateLock;
  ({ local, lock } = await lockAndReload(local, 'down', (message) => warn(io, message)));
  const reporter = await createReporter(io);
  const interrupt = interruptSignal('down');
  try {
    const state = local.state ?? newState(local, accountId, rememberedSettings(undefined));
    const ctx = { ...resourceContext(clients, local, accountId), signal: lock ? AbortSignal.any([interrupt.signal, lock.lost]) : interrupt.signal };
    const availabilityZones = state.availabilityZones ?? zones;
    const lambda = await lambdaPackage().catch(() => ({ zipPath: '', codeSha256: '' }));
    const desired = desiredStack({ stack: local.stack, region: local.region, accountId, availabilityZones }, rememberedSettings(state), lambda);

    info(io, `Finding the resources of stack ${local.stack} in ${local.region} (account ${accountId})...`);
    const observations = await observe(desired, state.resources, ctx, registry, reporter);
    const writer = new StateWriter(local.statePath, false, lock?.lost);
    // Whatever was found by name and tag joins the state file first, so a killed `down` still knows it.
    for (const resource of desired) {
      const observation = observations.get(resource.key);
      if (observation?.status === 'found') {
        state.resources[resource.key] = { kind: resource.kind, name: resource.name, id: observation.id, props: {}, outputs: observation.outputs, dependsOn: [] };
      }
    }
    for (const [key, observation] of observations) if (observation.status === 'gone') delete state.resources[key];
    // Dependencies come from the stack definition where we have it, so discovered resources delete in order too.
    for (const resource of desired) {
      const record = state.resources[resource.key];
      if (!record || Object.keys(record.props).length > 0) continue;
      record.dependsOn = dependenciesOf(resource.props);
      record.props = resolveProps(resource.props, (key) => state.resources[key]?.outputs).props;
    }
    refuseForeignRecords(state.resources, desired, local.statePath, local.stack);
    const keys = Object.keys(state.resources);
    if (keys.length > 0 || local.state) await writer.save(state);

    // A deleted webhook leaves Scalr runs waiting forever and the stack's pool tokens valid: detach first.
    let detachedPools: string[] = [];
    if (Object.keys(state.pools).length > 0 && !options.keepPools) {
      const { detachRecordedPools } = await import('./pool.js');
      const pools = await detachRecordedPools(options, state, (saved) => writer.save(saved), io);
      if (pools.left.length > 0) {
        throw new ScalrServerlessError(
          'POOLS_ATTACHED',
          `agent pool(s) ${pools.left.map((p) => p.poolId).join(', ')} could not be detached (${pools.left[0].reason}); nothing was deleted`,
          { hint: 'set SCALR_HOSTNAME and SCALR_TOKEN and run down again, or `pool detach <id>` (--force for a pool Scalr no longer has), or add --keep-pools to delete the stack anyway' },
        );
      }
      detachedPools = [...pools.detached, ...pools.released];
      if (detachedPools.length > 0) info(io, `Detached agent pool(s) ${detachedPools.join(', ')} from the webhook.`);
    }

    // Running agents hold network interfaces in the subnets: stop them before anything else goes.
    const stoppedTasks = state.resources.cluster ? await stopClusterTasks({ ...ctx, waiting: (m) => info(io, `  ${m}`) }, stackNames(local.stack).cluster) : 0;
    if (stoppedTasks > 0) info(io, `Stopped ${stoppedTasks} running agent task(s).`);

    const deleted = keys.map((key) => ({ key, kind: state.resources[key].kind, name: state.resources[key].name }));
    try {
      await destroy(keys, state, { ctx, registry, reporter, writer });
    } finally {
      reporter.stopAll();
    }
    const detachedPoolsLeft = Object.keys(state.pools);
    if (detachedPoolsLeft.length > 0) {
      warn(io, `agent pools ${detachedPoolsLeft.join(', ')} still point at the deleted webhook (--keep-pools); run \`pool detach\` for each, or remove them in Scalr`);
    }
    if (Object.keys(state.resources).length === 0 && detachedPoolsLeft.length === 0) {
      await rm(local.statePath, { force: true });
      await rm(`${local.statePath}.bak`, { force: true });
      await rm(`${local.statePath}.tmp`, { force: true });
    }
    const summary = deleted.length === 0 ? `Stack ${local.stack} has nothing to delete.` : `Deleted ${deleted.length} resources of stack ${local.stack}.`;
    const document = { stack: local.stack, region: local.region, deleted, stoppedTasks, detachedPools, detachedPoolsLeft };
    result(io, summary, document);
    return document;
  } finally {
    interrupt.dispose();
    reporter.stopAll();
    await lock.release();
  }
}
