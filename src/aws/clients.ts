import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { STSClient } from '@aws-sdk/client-sts';

/** Every AWS client the tool uses, made once per command from one shared config and passed in. */
export interface AwsClients {
  ec2: EC2Client;
  ecs: ECSClient;
  iam: IAMClient;
  lambda: LambdaClient;
  apigateway: APIGatewayClient;
  logs: CloudWatchLogsClient;
  sts: STSClient;
}

/** Where and as whom to call AWS. */
export interface AwsConfig {
  region: string;
  profile?: string;
  /** Overrides every client's endpoint (LocalStack, moto); AWS_ENDPOINT_URL works without it. */
  endpointUrl?: string;
  /** User agent suffix `scalr-serverless/<version>`. */
  version: string;
  maxAttempts?: number;
}

const DEFAULT_MAX_ATTEMPTS = 8;

/**
 * Makes all clients from one config. The SDK is imported here, lazily, so commands that never
 * touch AWS (`--help`, `--version`, `iam-policy`) start at bare-node speed.
 */
export async function createAwsClients(config: AwsConfig): Promise<AwsClients> {
  const [ec2, ecs, iam, lambda, apigateway, logs, sts, credentialProviders] = await Promise.all([
    import('@aws-sdk/client-ec2'),
    import('@aws-sdk/client-ecs'),
    import('@aws-sdk/client-iam'),
    import('@aws-sdk/client-lambda'),
    import('@aws-sdk/client-api-gateway'),
    import('@aws-sdk/client-cloudwatch-logs'),
    import('@aws-sdk/client-sts'),
    config.profile ? import('@aws-sdk/credential-providers') : Promise.resolve(undefined),
  ]);
  const shared = {
    region: config.region,
    // Adaptive mode adds client-side rate limiting on top of exponential backoff, which is what
    // keeps a parallel apply from hammering an account that is already being throttled.
    retryMode: 'adaptive',
    maxAttempts: config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    customUserAgent: `scalr-serverless/${config.version}`,
    ...(config.endpointUrl ? { endpoint: config.endpointUrl } : {}),
    ...(config.profile && credentialProviders
      ? { credentials: credentialProviders.fromIni({ profile: config.profile }) }
      : {}),
  };
  return {
    ec2: new ec2.EC2Client(shared),
    ecs: new ecs.ECSClient(shared),
    iam: new iam.IAMClient(shared),
    lambda: new lambda.LambdaClient(shared),
    apigateway: new apigateway.APIGatewayClient(shared),
    logs: new logs.CloudWatchLogsClient(shared),
    sts: new sts.STSClient(shared),
  };
}
