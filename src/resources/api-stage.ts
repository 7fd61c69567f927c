import {
  CreateStageCommand,
  DeleteStageCommand,
  GetStageCommand,
  UpdateStageCommand,
} from '@aws-sdk/client-api-gateway';
import type { Created, Props, ResourceContext, ResourceKind } from './contract.js';
import { hasErrorName, ignoreNotFound, unlessNotFound } from './aws-helpers.js';

/** Props of the named stage (`prod`) that serves one deployment. */
export interface ApiStageProps extends Props {
  restApiId: string;
  stageName: string;
  deploymentId: string;
}

function splitId(id: string): { restApiId: string; stageName: string } {
  const slash = id.indexOf('/');
  return { restApiId: id.slice(0, slash), stageName: id.slice(slash + 1) };
}

function createdOf(ctx: ResourceContext, restApiId: string, stageName: string): Created {
  const id = `${restApiId}/${stageName}`;
  const invokeUrl = `https://${restApiId}.execute-api.${ctx.region}.amazonaws.com/${stageName}`;
  return { id, outputs: { id, stageName, invokeUrl } };
}

async function getStage(ctx: ResourceContext, restApiId: string, stageName: string) {
  return unlessNotFound(ctx.clients.apigateway.send(new GetStageCommand({ restApiId, stageName })));
}

/** Points the stage at `deploymentId` unless it already serves it. */
async function converge(ctx: ResourceContext, props: ApiStageProps, current: string | undefined): Promise<Created> {
  if (current !== props.deploymentId) {
    await ctx.clients.apigateway.send(
      new UpdateStageCommand({
        restApiId: props.restApiId,
        stageName: props.stageName,
        patchOperations: [{ op: 'replace', path: '/deploymentId', value: props.deploymentId }],
      }),
    );
  }
  return createdOf(ctx, props.restApiId, props.stageName);
}

/** The stage whose URL Scalr calls; moving it to a new deployment is how changes go live. */
export const apiStage: ResourceKind<ApiStageProps> = {
  kind: 'apigateway.stage',
  label: 'API Stage',
  replaceOn: ['restApiId', 'stageName'],

  async find(ctx, props) {
    const stage = await getStage(ctx, props.restApiId, props.stageName);
    return stage ? createdOf(ctx, props.restApiId, props.stageName) : undefined;
  },

  async create(ctx, props) {
    try {
      // Tags only at creation: moto 5.2.1 reads API Gateway tags back for stage ARNs only.
      await ctx.clients.apigateway.send(
        new CreateStageCommand({
          restApiId: props.restApiId,
          stageName: props.stageName,
          deploymentId: props.deploymentId,
          tags: ctx.tags,
        }),
      );
      return createdOf(ctx, props.restApiId, props.stageName);
    } catch (error) {
      // A run that died after CreateStage left the stage behind: adopt it.
      if (!hasErrorName(error, 'ConflictException')) throw error;
      const stage = await ctx.clients.apigateway.send(
        new GetStageCommand({ restApiId: props.restApiId, stageName: props.stageName }),
      );
      return converge(ctx, props, stage.deploymentId);
    }
  },

  async read(ctx, id) {
    const { restApiId, stageName } = splitId(id);
    const stage = await getStage(ctx, restApiId, stageName);
    if (!stage) return undefined;
    return { outputs: createdOf(ctx, restApiId, stageName).outputs, props: { deploymentId: stage.deploymentId ?? '' } };
  },

  async update(ctx, id, props) {
    const { restApiId, stageName } = splitId(id);
    const stage = await ctx.clients.apigateway.send(new GetStageCommand({ restApiId, stageName }));
    return converge(ctx, props, stage.deploymentId);
  },

  async delete(ctx, id) {
    const { restApiId, stageName } = splitId(id);
    if (!(await getStage(ctx, restApiId, stageName))) return;
    await ignoreNotFound(ctx.clients.apigateway.send(new DeleteStageCommand({ restApiId, stageName })));
  },
};
