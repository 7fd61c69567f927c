import {
  CreateRestApiCommand,
  DeleteRestApiCommand,
  GetRestApiCommand,
  paginateGetRestApis,
  UpdateRestApiCommand,
  type PatchOperation,
  type RestApi,
} from '@aws-sdk/client-api-gateway';
import { isThrottle } from '../aws/not-found.js';
import { retryWhile } from '../aws/retry.js';
import type { Created, ResourceKind, Props } from './contract.js';
import { ignoreNotFound, unlessNotFound } from './aws-helpers.js';

/**
 * DeleteRestApi has an account-wide quota of one call per 30 seconds, beyond what the SDK's own
 * retries cover; a teardown of two stacks at once must wait its turn.
 */
export const DELETE_REST_API_TIMEOUT_MS = 180_000;
const DELETE_REST_API_DELAY_MS = 5_000;

/** Props of the webhook's REST API. */
export interface RestApiProps extends Props {
  name: string;
  description: string;
}

function createdOf(api: RestApi): Created {
  const id = api.id ?? '';
  return { id, outputs: { id, rootResourceId: api.rootResourceId ?? '', name: api.name ?? '' } };
}

/** The regional REST API that fronts the webhook function. */
export const restApi: ResourceKind<RestApiProps> = {
  kind: 'apigateway.rest-api',
  label: 'REST API',
  replaceOn: [],

  async find(ctx, props) {
    for await (const page of paginateGetRestApis({ client: ctx.clients.apigateway }, { limit: 500 })) {
      const api = page.items?.find((item) => item.name === props.name);
      if (api) return createdOf(api);
    }
    return undefined;
  },

  async create(ctx, props) {
    const api = await ctx.clients.apigateway.send(
      new CreateRestApiCommand({
        name: props.name,
        description: props.description,
        endpointConfiguration: { types: ['REGIONAL'] },
        tags: ctx.tags,
      }),
    );
    return createdOf(api);
  },

  async read(ctx, id) {
    const api = await unlessNotFound(ctx.clients.apigateway.send(new GetRestApiCommand({ restApiId: id })));
    if (!api) return undefined;
    return { outputs: createdOf(api).outputs, props: { name: api.name ?? '', description: api.description ?? '' } };
  },

  async update(ctx, id, props) {
    const api = await ctx.clients.apigateway.send(new GetRestApiCommand({ restApiId: id }));
    const patchOperations: PatchOperation[] = [];
    if (api.name !== props.name) patchOperations.push({ op: 'replace', path: '/name', value: props.name });
    if ((api.description ?? '') !== props.description) {
      patchOperations.push({ op: 'replace', path: '/description', value: props.description });
    }
    if (patchOperations.length === 0) return createdOf(api);
    return createdOf(await ctx.clients.apigateway.send(new UpdateRestApiCommand({ restApiId: id, patchOperations })));
  },

  async delete(ctx, id) {
    const apigateway = ctx.clients.apigateway;
    // moto 5.2.1 answers a second DeleteRestApi with 500, not 404: look first.
    const api = await unlessNotFound(apigateway.send(new GetRestApiCommand({ restApiId: id })));
    if (!api) return;
    await retryWhile(() => ignoreNotFound(apigateway.send(new DeleteRestApiCommand({ restApiId: id }))), isThrottle, {
      timeoutMs: DELETE_REST_API_TIMEOUT_MS,
      initialDelayMs: DELETE_REST_API_DELAY_MS,
      maxDelayMs: DELETE_REST_API_DELAY_MS * 6,
      onRetry: (attempt) => ctx.waiting(`waiting for API Gateway to accept deleting REST API ${id} (attempt ${attempt})`),
      signal: ctx.signal,
    });
  },
};
