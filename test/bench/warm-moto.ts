import { createAwsClients } from '../../src/aws/clients.js';
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import { ListClustersCommand } from '@aws-sdk/client-ecs';
import { ListPoliciesCommand } from '@aws-sdk/client-iam';
import { ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetRestApisCommand } from '@aws-sdk/client-api-gateway';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';

/**
 * moto builds each service's backend on its first call after a start or reset (EC2 loads its region
 * and AZ tables, which takes over a second; IAM loads the managed policies). That is the emulator's
 * cost, not the tool's: one read per service, sent to moto directly (past the proxy), pays it before
 * a measured command.
 */
export async function warmMoto(endpoint: string): Promise<void> {
  const clients = await createAwsClients({ region: 'us-east-1', endpointUrl: endpoint, version: 'bench' });
  await Promise.all([
    clients.ec2.send(new DescribeAvailabilityZonesCommand({})),
    clients.ecs.send(new ListClustersCommand({})),
    clients.iam.send(new ListPoliciesCommand({ MaxItems: 1 })),
    clients.lambda.send(new ListFunctionsCommand({})),
    clients.apigateway.send(new GetRestApisCommand({})),
    clients.logs.send(new DescribeLogGroupsCommand({})),
    clients.sts.send(new GetCallerIdentityCommand({})),
  ]);
  for (const client of Object.values(clients)) client.destroy();
}
