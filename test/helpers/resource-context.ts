import { createAwsClients } from '../../src/aws/clients.js';
import type { ResourceContext } from '../../src/resources/contract.js';
import { MOTO_ACCOUNT_ID, type MotoServer } from './moto.js';

/** A ResourceContext whose clients talk to the given moto server; waits are recorded in `waits`. */
export async function motoResourceContext(
  moto: MotoServer,
  stack = 'test',
): Promise<ResourceContext & { waits: string[] }> {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const clients = await createAwsClients({ region: 'us-east-1', endpointUrl: moto.endpoint, version: 'test' });
  const waits: string[] = [];
  return {
    clients,
    stack,
    region: 'us-east-1',
    accountId: MOTO_ACCOUNT_ID,
    tags: { 'scalr-serverless:stack': stack, 'managed-by': 'scalr-serverless' },
    waiting: (message) => waits.push(message),
    waits,
  };
}
