import { checkServiceLinkedRole, checkWiring, type Check } from '../../aws/doctor-checks.js';
import { firstAvailabilityZones } from '../../aws/identity.js';
import { observe } from '../../engine/observe.js';
import { plan as makePlan } from '../../engine/plan.js';
import { registry } from '../../resources/registry.js';
import { desiredStack } from '../../stack.js';
import { ScalrServerlessError, describeCause } from '../../errors.js';
import { connect, lambdaPackage, loadLocalStack, rememberedSettings, resourceContext, type CommonOptions } from '../stack-context.js';
import { silentReporter } from '../../engine/events.js';
import { result, type Io } from '../output.js';

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

/** Checks credentials, region, the stack's resources and its wiring; says the fix for each failure. Reads only. */
export async function doctor(options: CommonOptions, io: Io) {
  const checks: Check[] = [];
  const local = await loadLocalStack(options);
  checks.push({ name: 'region', status: 'ok', detail: local.region });
  let connected: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    connected = await connect(options, local);
    checks.push({ name: 'AWS credentials', status: 'ok', detail: `account ${connected.accountId}` });
  } catch (error) {
    // Our own errors are already in plain words; only a raw AWS error needs its name to make sense.
    const known = error instanceof ScalrServerlessError ? error : undefined;
    checks.push({ name: 'AWS credentials', status: 'fail', detail: known ? known.message : describeCause(error), fix: known?.hint });
  }
  if (connected) {
    const { clients, accountId } = connected;
    try {
      const zones = await firstAvailabilityZones(clients, 2);
      checks.push({ name: 'availability zones', status: 'ok', detail: zones.join(', ') });
    } catch (error) {
      checks.push({ name: 'availability zones', status: 'fail', detail: describeCause(error), fix: 'choose a region with two or more availability zones' });
    }
    checks.push(await checkServiceLinkedRole(clients));
    const state = local.state;
    if (!state) {
      checks.push({ name: 'stack', status: 'warn', detail: `no state file at ${local.statePath}`, fix: 'run `scalr-serverless up`, or pass the --stack / --state of a deployed stack' });
    } else {
      const desired = desiredStack({ stack: local.stack, region: local.region, accountId, availabilityZones: state.availabilityZones ?? [] }, rememberedSettings(state), await lambdaPackage());
      const observations = await observe(desired, state.resources, resourceContext(clients, local, accountId), registry, silentReporter);
      const planned = makePlan(desired, state.resources, observations, registry);
      const off = planned.steps.filter((step) => step.action !== 'noop');
      checks.push(
        off.length === 0
          ? { name: 'stack resources', status: 'ok', detail: `all ${planned.steps.length} exist and match` }
          : { name: 'stack resources', status: 'fail', detail: off.map((s) => `${s.label} ${s.name}: ${s.reason}`).join('; '), fix: 'run `scalr-serverless up` to repair (see `scalr-serverless plan` first)' },
      );
      checks.push(...(await checkWiring(clients, state)));
    }
  }
  const healthy = checks.every((c) => c.status !== 'fail');
  result(
    io,
    () =>
      [
        ...checks.map((c) => `${MARK[c.status]} ${c.name}: ${c.detail}${c.fix && c.status !== 'ok' ? `\n      fix: ${c.fix}` : ''}`),
        !healthy
          ? 'Some checks failed: see the fixes above.'
          : local.state
            ? 'All checks passed.'
            : 'No check failed, but no stack is deployed from here (no state file).',
      ].join('\n'),
    { stack: local.stack, region: local.region, healthy, checks },
  );
  if (!healthy) process.exitCode = 1;
  return { healthy, checks };
}
