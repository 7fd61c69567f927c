import { ECSClient } from '@aws-sdk/client-ecs';
import { parseConfig } from './config.js';
import { createHandler } from './handler.js';

/** Bounds on one ECS call, so a hung connection cannot use up the whole invocation. */
const ECS_CONNECTION_TIMEOUT_MS = 2000;
const ECS_REQUEST_TIMEOUT_MS = 8000;
/** The SDK's own retries (network errors, 5xx); throttling and capacity are retried in launch.ts within the invocation's time. */
const ECS_MAX_ATTEMPTS = 2;

// Module scope: made once per cold start and reused by every warm invocation. The region comes
// from AWS_REGION (always set in Lambda); the SDK honours AWS_ENDPOINT_URL by itself (FACTS §7).
const ecs = new ECSClient({
  region: process.env.AWS_REGION,
  maxAttempts: ECS_MAX_ATTEMPTS,
  requestHandler: {
    connectionTimeout: ECS_CONNECTION_TIMEOUT_MS,
    requestTimeout: ECS_REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  },
});

/** The Lambda entry (`index.handler`): API Gateway REST proxy event in, proxy result out. */
export const handler = createHandler({ ecs, config: parseConfig(process.env) });
