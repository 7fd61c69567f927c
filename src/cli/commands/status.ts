import { observe } from '../../engine/observe.js';
import { registry } from '../../resources/registry.js';
import { desiredStack } from '../../stack.js';
import { plan as makePlan } from '../../engine/plan.js';
import { connect, lambdaPackage, loadLocalStack, newState, rememberedSettings, resourceContext, type CommonOptions, type LocalStack } from '../stack-context.js';
import { firstAvailabilityZones } from '../../aws/identity.js';
import { silentReporter } from '../../engine/events.js';
import { createReporter } from '../reporter.js';
import { result, type Io } from '../output.js';
import { readOutputs, renderOutputs, type StackOutputs } from './outputs.js';

/** `status` options. */
export interface StatusOptions extends CommonOptions {
  showSecrets: boolean;
}

/** One resource as `status` reports it. */
export interface ResourceStatus {
  key: string;
  kind: string;
  name: string;
  id?: string;
  exists: boolean;
  drift?: string;
}

/** What `status` found. */
export interface StatusResult {
  stack: string;
  region: string;
  stateFile: string;
  deployed: boolean;
  resources: ResourceStatus[];
  outputs?: StackOutputs;
}

/** Reads every recorded resource (reads only) and reports whether it exists and whether it drifted. */
export async function status(options: StatusOptions, io: Io): Promise<StatusResult> {
  const local = await loadLocalStack(options);
  if (!local.state) return statusWithoutState(options, local, io);
  const state = local.state;
  const { clients, accountId } = await connect(options, local);
  const ctx = resourceContext(clients, local, accountId);
  const lambda = await lambdaPackage();
  const desired = desiredStack(
    { stack: local.stack, region: local.region, accountId, availabilityZones: state.availabilityZones ?? [] },
    rememberedSettings(state),
    lambda,
  );
  const reporter = await createReporter(io);
  const observations = await observe(desired, state.resources, ctx, registry, reporter);
  const planned = makePlan(desired, state.resources, observations, registry);
  const resources: ResourceStatus[] = planned.steps.map((step) => {
    const observation = observations.get(step.key);
    const record = state.resources[step.key];
    const exists = observation?.status === 'present' || observation?.status === 'found';
    const drift =
      observation?.status === 'gone'
        ? 'deleted outside scalr-serverless'
        : step.action === 'create'
          ? 'not created yet'
          : step.action === 'noop'
            ? undefined
            : step.reason;
    return { key: step.key, kind: step.kind, name: step.name, id: record?.id, exists, drift };
  });
  const outputs = await readOutputs(clients, state, options.showSecrets, io);
  const document = { stack: local.stack, region: local.region, stateFile: local.statePath, deployed: true, resources, outputs };
  result(io, () => renderStatus(document), document);
  return document;
}

/**
 * No state file (a CI runner's lost workspace, another machine): the stack may still exist. Look for
 * its resources by name and tag, as up and down would, and say what was found. Reads only.
 */
async function statusWithoutState(options: StatusOptions, local: LocalStack, io: Io): Promise<StatusResult> {
  const { clients, accountId, also: availabilityZones } = await connect(options, local, (clients) => firstAvailabilityZones(clients, 2));
  const desired = desiredStack({ stack: local.stack, region: local.region, accountId, availabilityZones }, rememberedSettings(undefined), await lambdaPackage());
  const observations = await observe(desired, {}, resourceContext(clients, local, accountId), registry, silentReporter);
  const resources: ResourceStatus[] = desired
    .filter((resource) => observations.get(resource.key)?.status === 'found')
    .map((resource) => {
      const observation = observations.get(resource.key) as { id: string };
      return { key: resource.key, kind: resource.kind, name: resource.name, id: observation.id, exists: true, drift: 'not in a state file' };
    });
  // The outputs come from what was found: the stage's URL and the key's value (read from API Gateway).
  const found = newState(local, accountId, rememberedSettings(undefined));
  for (const resource of desired) {
    const observation = observations.get(resource.key);
    if (observation?.status === 'found') found.resources[resource.key] = { kind: resource.kind, name: resource.name, id: observation.id, props: {}, outputs: observation.outputs, dependsOn: [] };
  }
  const outputs = resources.length > 0 ? await readOutputs(clients, found, options.showSecrets, io) : undefined;
  const document: StatusResult = { stack: local.stack, region: local.region, stateFile: local.statePath, deployed: false, resources, outputs };
  const text =
    resources.length === 0
      ? `Stack ${local.stack} has no state file at ${local.statePath}, and none of its resources exist in ${local.region} (account ${accountId}).`
      : [
          `Stack ${local.stack} has no state file at ${local.statePath}, but ${resources.length} of its ${desired.length} resources exist in ${local.region}:`,
          ...resources.map((r) => `  found   ${r.kind.padEnd(24)} ${r.name}  ${r.id}`),
          '`up` adopts them (and creates what is missing); `down` deletes them.',
          renderOutputs(outputs ?? {}),
        ].join('\n');
  result(io, text, document);
  return document;
}

function renderStatus(status: StatusResult): string {
  const lines = [`Stack ${status.stack} in ${status.region} (state: ${status.stateFile})`];
  for (const resource of status.resources) {
    const mark = resource.exists ? (resource.drift ? '~' : 'ok') : 'MISSING';
    lines.push(`  ${mark.padEnd(7)} ${resource.kind.padEnd(24)} ${resource.name}  ${resource.id ?? ''}${resource.drift ? `  (${resource.drift})` : ''}`);
  }
  const drifted = status.resources.filter((r) => !r.exists || r.drift).length;
  lines.push(drifted === 0 ? 'Everything exists and matches the stack.' : `${drifted} resource(s) missing or drifted: run up to repair.`);
  lines.push(renderOutputs(status.outputs ?? {}));
  return lines.join('\n');
}
