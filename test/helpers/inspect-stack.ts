import { EC2Client, DescribeVpcsCommand, DescribeSubnetsCommand, DescribeInternetGatewaysCommand, DescribeRouteTablesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { ECSClient, DescribeClustersCommand, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { APIGatewayClient, GetRestApisCommand, GetApiKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';

/** SDK clients of the test's own, pointed at moto: checks never go through the code under test. */
export function inspectorClients(endpoint: string, region = 'us-east-1') {
  const config = { region, endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  return {
    ec2: new EC2Client(config),
    ecs: new ECSClient(config),
    iam: new IAMClient(config),
    lambda: new LambdaClient(config),
    apigateway: new APIGatewayClient(config),
    logs: new CloudWatchLogsClient(config),
  };
}

/**
 * Everything of stack `stack` that still exists, found by Describe/List calls by tag and by name
 * (moto's data.json lists deleted resources too, so it cannot tell). Empty means nothing is left.
 */
export async function remainingStackResources(endpoint: string, stack: string, region = 'us-east-1'): Promise<string[]> {
  const c = inspectorClients(endpoint, region);
  const prefix = `scalr-serverless-${stack}`;
  const byTag = [{ Name: 'tag:scalr-serverless:stack', Values: [stack] }];
  const left: string[] = [];
  const vpcs = await c.ec2.send(new DescribeVpcsCommand({ Filters: byTag }));
  left.push(...(vpcs.Vpcs ?? []).map((v) => `vpc ${v.VpcId}`));
  const subnets = await c.ec2.send(new DescribeSubnetsCommand({ Filters: byTag }));
  left.push(...(subnets.Subnets ?? []).map((s) => `subnet ${s.SubnetId}`));
  const igws = await c.ec2.send(new DescribeInternetGatewaysCommand({ Filters: byTag }));
  left.push(...(igws.InternetGateways ?? []).map((g) => `internet gateway ${g.InternetGatewayId}`));
  const tables = await c.ec2.send(new DescribeRouteTablesCommand({ Filters: byTag }));
  left.push(...(tables.RouteTables ?? []).map((t) => `route table ${t.RouteTableId}`));
  const groups = await c.ec2.send(new DescribeSecurityGroupsCommand({ Filters: byTag }));
  left.push(...(groups.SecurityGroups ?? []).map((g) => `security group ${g.GroupId}`));
  const clusters = await c.ecs.send(new DescribeClustersCommand({ clusters: [prefix] }));
  left.push(...(clusters.clusters ?? []).filter((cl) => cl.status === 'ACTIVE').map((cl) => `ecs cluster ${cl.clusterName}`));
  const families = await c.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: `${prefix}-agent`, status: 'ACTIVE' }));
  left.push(...(families.taskDefinitionArns ?? []).map((arn) => `task definition ${arn}`));
  const roles = await c.iam.send(new ListRolesCommand({}));
  left.push(...(roles.Roles ?? []).filter((r) => r.RoleName?.startsWith(`${prefix}-`)).map((r) => `iam role ${r.RoleName}`));
  const functions = await c.lambda.send(new ListFunctionsCommand({}));
  left.push(...(functions.Functions ?? []).filter((f) => f.FunctionName?.startsWith(prefix)).map((f) => `lambda ${f.FunctionName}`));
  const apis = await c.apigateway.send(new GetRestApisCommand({ limit: 500 }));
  left.push(...(apis.items ?? []).filter((a) => a.name === prefix).map((a) => `rest api ${a.id}`));
  const keys = await c.apigateway.send(new GetApiKeysCommand({ limit: 500 }));
  left.push(...(keys.items ?? []).filter((k) => k.name === prefix).map((k) => `api key ${k.id}`));
  const plans = await c.apigateway.send(new GetUsagePlansCommand({ limit: 500 }));
  left.push(...(plans.items ?? []).filter((p) => p.name === prefix).map((p) => `usage plan ${p.id}`));
  for (const logPrefix of [`/ecs/${prefix}`, `/aws/lambda/${prefix}`]) {
    const groupsLeft = await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logPrefix }));
    left.push(...(groupsLeft.logGroups ?? []).map((g) => `log group ${g.logGroupName}`));
  }
  return left;
}
