import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import type { AwsClients } from './clients.js';
import { UsageError, AwsOperationError } from '../errors.js';
import { awsErrorName } from './not-found.js';

/** Names of SDK errors that mean "no usable credentials", as opposed to an AWS failure. */
const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);

/** The account the credentials belong to; the first AWS call of every command, so bad credentials fail early. */
export async function callerAccount(clients: AwsClients, profile?: string): Promise<{ accountId: string; arn: string }> {
  try {
    const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
    return { accountId: identity.Account!, arn: identity.Arn ?? '' };
  } catch (error) {
    const name = awsErrorName(error) ?? '';
    if (CREDENTIAL_ERRORS.has(name) || /credential/i.test((error as Error).message ?? '')) {
      throw new UsageError(
        `no usable AWS credentials${profile ? ` for profile ${profile}` : ''}: ${(error as Error).message}`,
        'set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for SSO run `aws sso login` first',
      );
    }
    if (name === 'ECONNREFUSED' || /ECONNREFUSED|ENOTFOUND|getaddrinfo/.test(String((error as Error).message))) {
      throw new UsageError(`cannot reach AWS: ${(error as Error).message}`, 'check your network, --endpoint-url and AWS_ENDPOINT_URL');
    }
    throw new AwsOperationError('checking', 'AWS credentials', 'sts:GetCallerIdentity', error);
  }
}

/** The first `count` available AZs of the region, by name, as Scalr's module picks them. */
export async function firstAvailabilityZones(clients: AwsClients, count: number): Promise<string[]> {
  const response = await clients.ec2.send(
    new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }] }),
  );
  const zones = (response.AvailabilityZones ?? [])
    .filter((zone) => (zone.ZoneType ?? 'availability-zone') === 'availability-zone')
    .map((zone) => zone.ZoneName!)
    .sort();
  if (zones.length < count) {
    throw new UsageError(`the region has ${zones.length} available availability zones; scalr-serverless needs ${count}`);
  }
  return zones.slice(0, count);
}
