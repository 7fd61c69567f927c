import { createHash } from 'node:crypto';
import {
  CreateDeploymentCommand,
  DeleteDeploymentCommand,
  paginateGetDeployments,
  type Deployment,
} from '@aws-sdk/client-api-gateway';
import { isNotFound } from '../aws/not-found.js';
import type { Created, Props, ResourceContext, ResourceKind } from './contract.js';
import { hasErrorName, ignoreNotFound } from './aws-helpers.js';

/** Props of one immutable snapshot of a REST API. */
export interface ApiDeploymentProps extends Props {
  restApiId: string;
  description: string;
  /** Changes whenever what is deployed changes (e.g. the integration uri), forcing a new deployment. */
  trigger: string;
}

/**
 * The description a deployment is created with: the user's text plus a digest of the trigger, so
 * that `find` adopts only a deployment of exactly this content (an older one has another digest).
 */
export function deploymentDescription(props: ApiDeploymentProps): string {
  const digest = createHash('sha256').update(props.trigger).digest('hex').slice(0, 16);
  return `${props.description} [${digest}]`;
}

/**
 * Whether the deployment exists, from the API's list: moto 5.2.1 answers GetDeployment of a
 * deleted deployment with 500 instead of 404. A deleted API means the deployment is gone too.
 */
async function deploymentExists(ctx: ResourceContext, restApiId: string, id: string): Promise<boolean> {
  return (await findDeployment(ctx, restApiId, (item) => item.id === id)) !== undefined;
}

async function findDeployment(
  ctx: ResourceContext,
  restApiId: string,
  match: (item: Deployment) => boolean,
): Promise<Deployment | undefined> {
  try {
    for await (const page of paginateGetDeployments({ client: ctx.clients.apigateway }, { restApiId, limit: 500 })) {
      const found = page.items?.find(match);
      if (found) return found;
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return undefined;
}

function createdOf(id: string): Created {
  return { id, outputs: { id } };
}

async function createDeployment(ctx: ResourceContext, props: ApiDeploymentProps): Promise<Created> {
  // No stageName: the stage is its own resource and is pointed at this deployment by UpdateStage.
  const deployment = await ctx.clients.apigateway.send(
    new CreateDeploymentCommand({ restApiId: props.restApiId, description: deploymentDescription(props) }),
  );
  return createdOf(deployment.id ?? '');
}

/** A deployment of the REST API; a stage serves it. */
export const apiDeployment: ResourceKind<ApiDeploymentProps> = {
  kind: 'apigateway.deployment',
  label: 'API Deployment',
  replaceOn: ['restApiId'],
  // Every update is a new deployment, so the stage's deploymentId is unknown until it is made.
  updateChangesId: true,

  async find(ctx, props) {
    const description = deploymentDescription(props);
    const found = await findDeployment(ctx, props.restApiId, (item) => item.description === description);
    return found?.id ? createdOf(found.id) : undefined;
  },

  create: createDeployment,

  async read(ctx, id, props) {
    // A deployment is immutable: only its existence can drift; the engine compares recorded props.
    return (await deploymentExists(ctx, props.restApiId, id)) ? { outputs: createdOf(id).outputs } : undefined;
  },

  async update(ctx, id, props) {
    // An adopted deployment (found by its trigger digest) is already what is wanted: keep it.
    const current = await findDeployment(ctx, props.restApiId, (item) => item.id === id);
    if (current?.description === deploymentDescription(props)) return createdOf(id);
    // Deployments cannot change. The old one stays until the API goes, since the stage still
    // serves it until the stage is pointed at the new id.
    return createDeployment(ctx, props);
  },

  async delete(ctx, id, props) {
    const apigateway = ctx.clients.apigateway;
    const ids = { restApiId: props.restApiId, deploymentId: id };
    if (!(await deploymentExists(ctx, props.restApiId, id))) return;
    try {
      await ignoreNotFound(apigateway.send(new DeleteDeploymentCommand(ids)));
    } catch (error) {
      // BadRequest: a stage still serves it; it goes when the API is deleted.
      if (!hasErrorName(error, 'BadRequestException')) throw error;
    }
  },
};
