import {
  CreateResourceCommand,
  DeleteMethodCommand,
  DeleteResourceCommand,
  GetIntegrationCommand,
  GetMethodCommand,
  GetResourceCommand,
  paginateGetResources,
  PutIntegrationCommand,
  PutMethodCommand,
  type Resource,
} from '@aws-sdk/client-api-gateway';
import type { Created, Props, ResourceContext, ResourceKind } from './contract.js';
import { ignoreNotFound, unlessNotFound, hasErrorName } from './aws-helpers.js';

/** Props of one method on one path segment, proxied to a Lambda function. */
export interface ApiRouteProps extends Props {
  restApiId: string;
  parentId: string;
  pathPart: string;
  httpMethod: string;
  apiKeyRequired: boolean;
  /** The function's invokeArn. */
  integrationUri: string;
}

function createdOf(resource: Resource, integrationUri: string): Created {
  const id = resource.id ?? '';
  return { id, outputs: { id, path: resource.path ?? '', integrationUri } };
}

/** The child `/pathPart` of `parentId`, if it exists. */
async function findResource(ctx: ResourceContext, props: ApiRouteProps): Promise<Resource | undefined> {
  const pages = paginateGetResources({ client: ctx.clients.apigateway }, { restApiId: props.restApiId, limit: 500 });
  for await (const page of pages) {
    const match = page.items?.find((item) => item.parentId === props.parentId && item.pathPart === props.pathPart);
    if (match) return match;
  }
  return undefined;
}

/** What API Gateway has for the method: a missing method or integration observes as false / ''. */
async function observeMethod(ctx: ResourceContext, restApiId: string, resourceId: string, httpMethod: string) {
  const ids = { restApiId, resourceId, httpMethod };
  const method = await unlessNotFound(ctx.clients.apigateway.send(new GetMethodCommand(ids)));
  const integration = method && (await unlessNotFound(ctx.clients.apigateway.send(new GetIntegrationCommand(ids))));
  return {
    exists: method !== undefined,
    apiKeyRequired: method?.apiKeyRequired ?? false,
    authorizationType: method?.authorizationType ?? '',
    integrationType: integration?.type ?? '',
    integrationHttpMethod: integration?.httpMethod ?? '',
    integrationUri: integration?.uri ?? '',
  };
}

/** How observeMethod describes a path with no method. */
const NO_METHOD: Awaited<ReturnType<typeof observeMethod>> = {
  exists: false,
  apiKeyRequired: false,
  authorizationType: '',
  integrationType: '',
  integrationHttpMethod: '',
  integrationUri: '',
};

/** Puts the method and its integration wherever they differ from `props`; writes nothing when equal. */
async function converge(ctx: ResourceContext, resourceId: string, props: ApiRouteProps, fresh = false): Promise<void> {
  const apigateway = ctx.clients.apigateway;
  const ids = { restApiId: props.restApiId, resourceId, httpMethod: props.httpMethod };
  // A resource CreateResource just made has no methods: nothing to read (one round trip fewer on `up`).
  const current = fresh ? NO_METHOD : await observeMethod(ctx, props.restApiId, resourceId, props.httpMethod);
  let integrationGone = !current.integrationUri;
  if (!current.exists || current.apiKeyRequired !== props.apiKeyRequired || current.authorizationType !== 'NONE') {
    // PutMethod on an existing method is a ConflictException in AWS (and moto has no UpdateMethod),
    // so replace it. The live stage serves its deployment's snapshot, so callers see no gap.
    if (current.exists) await ignoreNotFound(apigateway.send(new DeleteMethodCommand(ids)));
    await apigateway.send(
      new PutMethodCommand({ ...ids, authorizationType: 'NONE', apiKeyRequired: props.apiKeyRequired }),
    );
    integrationGone = true;
  }
  const integrationDiffers =
    current.integrationType !== 'AWS_PROXY' ||
    current.integrationHttpMethod !== 'POST' ||
    current.integrationUri !== props.integrationUri;
  if (integrationGone || integrationDiffers) {
    // Lambda proxy integrations are always invoked with POST, whatever the method's own verb.
    await apigateway.send(
      new PutIntegrationCommand({ ...ids, type: 'AWS_PROXY', integrationHttpMethod: 'POST', uri: props.integrationUri }),
    );
  }
}

/** One path segment with one Lambda-proxied method (`POST /trigger`). */
export const apiRoute: ResourceKind<ApiRouteProps> = {
  kind: 'apigateway.route',
  label: 'API Route',
  replaceOn: ['restApiId', 'parentId', 'pathPart'],

  async find(ctx, props) {
    const resource = await unlessNotFound(findResource(ctx, props));
    if (!resource?.id) return undefined;
    const method = await observeMethod(ctx, props.restApiId, resource.id, props.httpMethod);
    return createdOf(resource, method.integrationUri);
  },

  async create(ctx, props) {
    // Create first and look only on a conflict: a run that died after CreateResource left the path
    // behind, and a second CreateResource for the same path is a ConflictException.
    let existing: Resource | undefined;
    let resource: Resource;
    try {
      resource = await ctx.clients.apigateway.send(
        new CreateResourceCommand({ restApiId: props.restApiId, parentId: props.parentId, pathPart: props.pathPart }),
      );
    } catch (error) {
      existing = hasErrorName(error, 'ConflictException') ? await findResource(ctx, props) : undefined;
      if (!existing) throw error;
      resource = existing;
    }
    await converge(ctx, resource.id ?? '', props, existing === undefined);
    return createdOf(resource, props.integrationUri);
  },

  async read(ctx, id, props) {
    const resource = await unlessNotFound(
      ctx.clients.apigateway.send(new GetResourceCommand({ restApiId: props.restApiId, resourceId: id })),
    );
    if (!resource) return undefined;
    const method = await observeMethod(ctx, props.restApiId, id, props.httpMethod);
    return {
      outputs: createdOf(resource, method.integrationUri).outputs,
      props: {
        parentId: resource.parentId ?? '',
        pathPart: resource.pathPart ?? '',
        apiKeyRequired: method.apiKeyRequired,
        integrationUri: method.integrationUri,
      },
    };
  },

  async update(ctx, id, props, previous) {
    const apigateway = ctx.clients.apigateway;
    const resource = await apigateway.send(new GetResourceCommand({ restApiId: props.restApiId, resourceId: id }));
    await converge(ctx, id, props);
    if (previous.httpMethod && previous.httpMethod !== props.httpMethod) {
      // The old verb would otherwise stay routed to the function.
      const old = { restApiId: props.restApiId, resourceId: id, httpMethod: previous.httpMethod };
      await ignoreNotFound(apigateway.send(new DeleteMethodCommand(old)));
    }
    return createdOf(resource, props.integrationUri);
  },

  async delete(ctx, id, props) {
    const apigateway = ctx.clients.apigateway;
    // moto 5.2.1 answers DeleteResource of a missing resource with 500: look first.
    const resource = await unlessNotFound(
      apigateway.send(new GetResourceCommand({ restApiId: props.restApiId, resourceId: id })),
    );
    if (!resource) return;
    await ignoreNotFound(apigateway.send(new DeleteResourceCommand({ restApiId: props.restApiId, resourceId: id })));
  },
};
