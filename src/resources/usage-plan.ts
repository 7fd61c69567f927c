import {
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  DeleteUsagePlanCommand,
  DeleteUsagePlanKeyCommand,
  GetUsagePlanCommand,
  paginateGetUsagePlanKeys,
  paginateGetUsagePlans,
  UpdateUsagePlanCommand,
  type PatchOperation,
  type QuotaPeriodType,
  type UsagePlan,
} from '@aws-sdk/client-api-gateway';
import type { Created, Props, ResourceContext, ResourceKind } from './contract.js';
import { ignoreNotFound, missingFrom, orderLike, unlessNotFound } from './aws-helpers.js';

/** One stage the plan covers. */
export type ApiStageRef = { apiId: string; stage: string };

/** Props of the usage plan that makes the API key valid for the stage, with its limits. */
export interface UsagePlanProps extends Props {
  name: string;
  apiStages: ApiStageRef[];
  apiKeyIds: string[];
  /** Requests: burst size, and steady rate per second. */
  throttle: { burstLimit: number; rateLimit: number };
  /** Requests per period (DAY, WEEK or MONTH). */
  quota: { limit: number; period: string };
}

function createdOf(id: string): Created {
  return { id, outputs: { id } };
}

function stagesOf(plan: UsagePlan): ApiStageRef[] {
  return (plan.apiStages ?? []).map((s) => ({ apiId: s.apiId ?? '', stage: s.stage ?? '' }));
}

// Number(): moto keeps patched quota limits as strings.
function throttleOf(plan: UsagePlan) {
  return { burstLimit: Number(plan.throttle?.burstLimit ?? 0), rateLimit: Number(plan.throttle?.rateLimit ?? 0) };
}

function quotaOf(plan: UsagePlan) {
  return { limit: Number(plan.quota?.limit ?? 0), period: plan.quota?.period ?? '' };
}

async function keyIdsOf(ctx: ResourceContext, usagePlanId: string): Promise<string[]> {
  const ids: string[] = [];
  const pages = paginateGetUsagePlanKeys({ client: ctx.clients.apigateway }, { usagePlanId, limit: 500 });
  for await (const page of pages) for (const key of page.items ?? []) if (key.id) ids.push(key.id);
  return ids;
}

/** Patch operations that bring the plan's stages and limits to `props` (the API has no full put). */
function patchOperationsFor(plan: UsagePlan, props: UsagePlanProps): PatchOperation[] {
  const ops: PatchOperation[] = [];
  const stages = stagesOf(plan);
  for (const s of missingFrom(props.apiStages, stages)) ops.push({ op: 'add', path: '/apiStages', value: `${s.apiId}:${s.stage}` });
  for (const s of missingFrom(stages, props.apiStages)) ops.push({ op: 'remove', path: '/apiStages', value: `${s.apiId}:${s.stage}` });
  const throttle = throttleOf(plan);
  const quota = quotaOf(plan);
  if (plan.name !== props.name) ops.push({ op: 'replace', path: '/name', value: props.name });
  if (throttle.burstLimit !== props.throttle.burstLimit) {
    ops.push({ op: 'replace', path: '/throttle/burstLimit', value: String(props.throttle.burstLimit) });
  }
  if (throttle.rateLimit !== props.throttle.rateLimit) {
    ops.push({ op: 'replace', path: '/throttle/rateLimit', value: String(props.throttle.rateLimit) });
  }
  if (quota.limit !== props.quota.limit) ops.push({ op: 'replace', path: '/quota/limit', value: String(props.quota.limit) });
  if (quota.period !== props.quota.period) ops.push({ op: 'replace', path: '/quota/period', value: props.quota.period });
  return ops;
}

/**
 * Converges stages, limits and keys; writes nothing when they already match. `known` is the plan as
 * CreateUsagePlan just returned it (a new plan has no keys), which spares two reads on a first `up`.
 */
async function converge(ctx: ResourceContext, id: string, props: UsagePlanProps, known?: { plan: UsagePlan; keys: string[] }): Promise<void> {
  const apigateway = ctx.clients.apigateway;
  // Independent reads, in parallel.
  const [plan, keys] = known
    ? [known.plan, known.keys]
    : await Promise.all([apigateway.send(new GetUsagePlanCommand({ usagePlanId: id })), keyIdsOf(ctx, id)]);
  const patchOperations = patchOperationsFor(plan, props);
  if (patchOperations.length > 0) await apigateway.send(new UpdateUsagePlanCommand({ usagePlanId: id, patchOperations }));
  for (const keyId of missingFrom(props.apiKeyIds, keys)) {
    await apigateway.send(new CreateUsagePlanKeyCommand({ usagePlanId: id, keyId, keyType: 'API_KEY' }));
  }
  // Only keys listed in the plan are deleted: moto 5.2.1 answers 500 to deleting an absent one.
  for (const keyId of missingFrom(keys, props.apiKeyIds)) {
    await ignoreNotFound(apigateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId: id, keyId })));
  }
}

/** The usage plan that lets the API key call the stage, within a throttle and a quota. */
export const usagePlan: ResourceKind<UsagePlanProps> = {
  kind: 'apigateway.usage-plan',
  label: 'Usage Plan',
  replaceOn: [],
  findsByName: true,

  async find(ctx, props) {
    for await (const page of paginateGetUsagePlans({ client: ctx.clients.apigateway }, { limit: 500 })) {
      const match = page.items?.find((plan) => plan.name === props.name);
      if (match?.id) return createdOf(match.id);
    }
    return undefined;
  },

  async create(ctx, props) {
    const plan = await ctx.clients.apigateway.send(
      new CreateUsagePlanCommand({
        name: props.name,
        apiStages: props.apiStages,
        throttle: props.throttle,
        quota: { limit: props.quota.limit, period: props.quota.period as QuotaPeriodType },
        tags: ctx.tags,
      }),
    );
    const id = plan.id ?? '';
    await converge(ctx, id, props, { plan, keys: [] });
    return createdOf(id);
  },

  async read(ctx, id, props) {
    // Both reads at once; the key listing's outcome only matters when the plan exists (its error for
    // a plan that is gone is not guaranteed to be a clean not-found).
    const keysRead = keyIdsOf(ctx, id);
    keysRead.catch(() => undefined);
    const plan = await unlessNotFound(ctx.clients.apigateway.send(new GetUsagePlanCommand({ usagePlanId: id })));
    if (!plan) return undefined;
    const keys = await keysRead;
    return {
      outputs: createdOf(id).outputs,
      props: {
        name: plan.name ?? '',
        apiStages: orderLike(stagesOf(plan), props?.apiStages),
        apiKeyIds: orderLike(keys, props?.apiKeyIds),
        throttle: throttleOf(plan),
        quota: quotaOf(plan),
      },
    };
  },

  async update(ctx, id, props) {
    await converge(ctx, id, props);
    return createdOf(id);
  },

  async delete(ctx, id) {
    const apigateway = ctx.clients.apigateway;
    // moto 5.2.1 answers a second DeleteUsagePlan with 500, not 404: look first.
    const plan = await unlessNotFound(apigateway.send(new GetUsagePlanCommand({ usagePlanId: id })));
    if (!plan) return;
    // AWS refuses to delete a plan still associated with stages; detach them first (as Terraform does).
    const patchOperations = stagesOf(plan).map(
      (s): PatchOperation => ({ op: 'remove', path: '/apiStages', value: `${s.apiId}:${s.stage}` }),
    );
    if (patchOperations.length > 0) {
      await ignoreNotFound(apigateway.send(new UpdateUsagePlanCommand({ usagePlanId: id, patchOperations })));
    }
    await ignoreNotFound(apigateway.send(new DeleteUsagePlanCommand({ usagePlanId: id })));
  },
};
