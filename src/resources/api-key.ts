import {
  CreateApiKeyCommand,
  DeleteApiKeyCommand,
  GetApiKeyCommand,
  paginateGetApiKeys,
  UpdateApiKeyCommand,
  type ApiKey,
  type PatchOperation,
} from '@aws-sdk/client-api-gateway';
import type { AwsClients } from '../aws/clients.js';
import { InternalError } from '../errors.js';
import type { Created, Props, ResourceKind } from './contract.js';
import { ignoreNotFound, unlessNotFound } from './aws-helpers.js';

/** Props of the API key Scalr sends as `X-Api-Key`. */
export interface ApiKeyProps extends Props {
  name: string;
  description: string;
}

// Outputs hold the id and name only: outputs go to the state file, which holds no secret.
function createdOf(key: ApiKey): Created {
  const id = key.id ?? '';
  return { id, outputs: { id, name: key.name ?? '' } };
}

/** The key's secret value, for the CLI to hand to Scalr; never stored in state. */
export async function readApiKeyValue(clients: AwsClients, id: string): Promise<string> {
  const key = await clients.apigateway.send(new GetApiKeyCommand({ apiKey: id, includeValue: true }));
  if (!key.value) throw new InternalError(`API Gateway returned API key ${id} without its value`);
  return key.value;
}

/** An enabled API key; it works only once a usage plan with the stage holds it (FACTS §5). */
export const apiKey: ResourceKind<ApiKeyProps> = {
  kind: 'apigateway.api-key',
  label: 'API Key',
  replaceOn: [],

  async find(ctx, props) {
    // nameQuery is a prefix match: keep only the exact name.
    const pages = paginateGetApiKeys(
      { client: ctx.clients.apigateway },
      { nameQuery: props.name, includeValues: false, limit: 500 },
    );
    for await (const page of pages) {
      const match = page.items?.find((item) => item.name === props.name);
      if (match) return createdOf(match);
    }
    return undefined;
  },

  async create(ctx, props) {
    const key = await ctx.clients.apigateway.send(
      new CreateApiKeyCommand({ name: props.name, description: props.description, enabled: true, tags: ctx.tags }),
    );
    return createdOf(key);
  },

  async read(ctx, id) {
    const key = await unlessNotFound(ctx.clients.apigateway.send(new GetApiKeyCommand({ apiKey: id })));
    if (!key) return undefined;
    return {
      outputs: createdOf(key).outputs,
      props: { name: key.name ?? '', description: key.description ?? '' },
    };
  },

  async update(ctx, id, props) {
    const key = await ctx.clients.apigateway.send(new GetApiKeyCommand({ apiKey: id }));
    const patchOperations: PatchOperation[] = [];
    if (key.name !== props.name) patchOperations.push({ op: 'replace', path: '/name', value: props.name });
    if ((key.description ?? '') !== props.description) {
      patchOperations.push({ op: 'replace', path: '/description', value: props.description });
    }
    if (!key.enabled) patchOperations.push({ op: 'replace', path: '/enabled', value: 'true' });
    if (patchOperations.length === 0) return createdOf(key);
    return createdOf(await ctx.clients.apigateway.send(new UpdateApiKeyCommand({ apiKey: id, patchOperations })));
  },

  async delete(ctx, id) {
    await ignoreNotFound(ctx.clients.apigateway.send(new DeleteApiKeyCommand({ apiKey: id })));
  },
};
