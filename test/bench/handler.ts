import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import { timeNode } from './processes.js';
import { median } from './calls.js';

const RUNNER = fileURLToPath(new URL('./handler-runner.mjs', import.meta.url));

/** Warm handler deliveries: one process, one module load, `count` deliveries for new Scalr tasks. */
export interface HandlerResult {
  deliveries: number;
  /** The first delivery also opens the connection and resolves credentials. */
  firstMs: number;
  /** Median of every delivery after the first. */
  warmMs: number;
  /** ECS calls per delivery, counted by the proxy. */
  callsPerDelivery: number;
  statusCodes: number[];
}

/**
 * Runs the unpacked handler in a child process with the deployed function's own environment (read
 * back from Lambda, as the runtime would set it), its ECS calls going through `proxy` to moto.
 */
export async function measureHandler(proxy: FaultProxy, functionName: string, lambdaDir: string, count: number): Promise<HandlerResult> {
  const lambda = new LambdaClient({ region: 'us-east-1', endpoint: proxy.url });
  const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
  lambda.destroy();
  const env = {
    ...config.Environment?.Variables,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: proxy.url,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const mark = proxy.calls().length;
  const run = await timeNode([RUNNER, join(lambdaDir, 'index.mjs'), String(count)], env);
  if (run.code !== 0) throw new Error(`handler runner exited with ${run.code}: ${run.stderr.slice(0, 2000)}`);
  const { deliveries } = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { deliveries: { ms: number; statusCode: number }[] };
  const statusCodes = deliveries.map((d) => d.statusCode);
  const failed = statusCodes.filter((code) => code < 200 || code >= 300);
  if (failed.length > 0) throw new Error(`handler answered ${failed.join(', ')} to bench deliveries`);
  return {
    deliveries: deliveries.length,
    firstMs: deliveries[0].ms,
    warmMs: median(deliveries.slice(1).map((d) => d.ms)),
    callsPerDelivery: (proxy.calls().length - mark) / deliveries.length,
    statusCodes,
  };
}
