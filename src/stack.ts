import { AGENT_CONTAINER_NAME, HANDLER_ENTRY, HANDLER_ENV, WEBHOOK_PATH, WEBHOOK_STAGE } from '../lambda-src/contract.js';
import { ref } from './resources/contract.js';
import { join, type DesiredResource, type DesiredValue } from './engine/graph.js';
import type { Settings } from './settings.js';

/** Everything the stack definition depends on besides the settings: who and where. */
export interface StackIdentity {
  stack: string;
  region: string;
  accountId: string;
  /** The first two available AZs, chosen once and kept in the state file. */
  availabilityZones: string[];
}

/** The Lambda package `up` uploads, with the sha256 Lambda reports back as CodeSha256. */
export interface LambdaPackage {
  zipPath: string;
  codeSha256: string;
}

/** Scalr's module's usage plan limits: enough for a busy account's webhook deliveries. */
export const USAGE_PLAN_LIMITS = { throttle: { burstLimit: 10, rateLimit: 5 }, quota: { limit: 1000, period: 'DAY' } };
export const LOG_RETENTION_DAYS = 30;
const LAMBDA_MEMORY_MB = 128;
const LAMBDA_RUNTIME = 'nodejs22.x';
const AGENT_MEMORY_RESERVATION_FRACTION = 0.5;
const EXECUTION_POLICY_ARN_SUFFIX = 'iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy';

/** The ARN partition of a region (aws, aws-cn, aws-us-gov). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** Every AWS name of a stack, derived from its name alone, so a lost state file can be rebuilt. */
export function stackNames(stack: string) {
  const prefix = `scalr-serverless-${stack}`;
  return {
    prefix,
    vpc: `${prefix}-vpc`,
    subnet: (index: number) => `${prefix}-public-${String.fromCharCode(97 + index)}`,
    internetGateway: `${prefix}-igw`,
    routeTable: `${prefix}-public`,
    securityGroup: `${prefix}-agent`,
    cluster: prefix,
    agentLogGroup: `/ecs/${prefix}`,
    functionName: `${prefix}-webhook`,
    handlerLogGroup: `/aws/lambda/${prefix}-webhook`,
    executionRole: `${prefix}-execution`,
    taskRole: `${prefix}-task`,
    handlerRole: `${prefix}-webhook`,
    taskFamily: `${prefix}-agent`,
    restApi: prefix,
    apiKey: prefix,
    usagePlan: prefix,
    permissionStatement: 'scalr-serverless-apigateway-invoke',
  };
}

/** The tags every resource gets at creation; `down` and adoption find the stack by them. */
export function stackTags(stack: string): Record<string, string> {
  return { 'scalr-serverless:stack': stack, 'managed-by': 'scalr-serverless' };
}

/** The webhook URL Scalr calls, from the stage's invoke URL. */
export function webhookUrl(invokeUrl: string): string {
  return `${invokeUrl}/${WEBHOOK_PATH}`;
}

/**
 * The desired resource graph of one stack. Pure: settings and identity in, resources out. Dependencies
 * are never listed by hand; they follow from the refs.
 */
export function desiredStack(identity: StackIdentity, settings: Settings, lambda: LambdaPackage): DesiredResource[] {
  const { stack, region, accountId } = identity;
  const names = stackNames(stack);
  const partition = partitionOf(region);
  const clusterArn = `arn:${partition}:ecs:${region}:${accountId}:cluster/${names.cluster}`;
  const subnetKeys = identity.availabilityZones.map((_, index) => `subnet${String.fromCharCode(65 + index)}`);

  const resources: DesiredResource[] = [
    { key: 'vpc', kind: 'ec2.vpc', name: names.vpc, props: { name: names.vpc, cidrBlock: '10.0.0.0/16', enableDnsSupport: true, enableDnsHostnames: true } },
    ...identity.availabilityZones.map((availabilityZone, index): DesiredResource => ({
      key: subnetKeys[index],
      kind: 'ec2.subnet',
      name: names.subnet(index),
      props: { name: names.subnet(index), vpcId: ref('vpc'), cidrBlock: `10.0.${index + 1}.0/24`, availabilityZone },
    })),
    {
      key: 'internetGateway',
      kind: 'ec2.internet-gateway',
      name: names.internetGateway,
      props: { name: names.internetGateway, vpcId: ref('vpc') },
    },
    {
      key: 'routeTable',
      kind: 'ec2.route-table',
      name: names.routeTable,
      props: {
        name: names.routeTable,
        vpcId: ref('vpc'),
        // The output `vpcId` of the gateway exists only once attached, so the route waits for the attachment.
        gatewayId: ref('internetGateway', 'id'),
        attachedTo: ref('internetGateway', 'vpcId'),
        subnetIds: subnetKeys.map((key) => ref(key)),
      },
    },
    {
      key: 'securityGroup',
      kind: 'ec2.security-group',
      name: names.securityGroup,
      props: {
        name: names.securityGroup,
        description: `scalr-serverless agent tasks of stack ${stack}`,
        vpcId: ref('vpc'),
        allowAllIngress: settings.allowAllIngress,
      },
    },
    {
      key: 'agentLogGroup',
      kind: 'logs.log-group',
      name: names.agentLogGroup,
      props: { name: names.agentLogGroup, retentionDays: LOG_RETENTION_DAYS },
    },
    {
      key: 'handlerLogGroup',
      kind: 'logs.log-group',
      name: names.handlerLogGroup,
      props: { name: names.handlerLogGroup, retentionDays: LOG_RETENTION_DAYS },
    },
    {
      key: 'cluster',
      kind: 'ecs.cluster',
      name: names.cluster,
      props: { name: names.cluster, capacityProviders: ['FARGATE', 'FARGATE_SPOT'] },
    },
    {
      key: 'executionRole',
      kind: 'iam.role',
      name: names.executionRole,
      props: {
        name: names.executionRole,
        description: `Pulls the agent image and writes its logs (scalr-serverless stack ${stack})`,
        assumeRoleService: 'ecs-tasks.amazonaws.com',
        managedPolicyArns: [`arn:${partition}:${EXECUTION_POLICY_ARN_SUFFIX}`],
        inlinePolicy: null,
      },
    },
    {
      key: 'taskRole',
      kind: 'iam.role',
      name: names.taskRole,
      props: {
        name: names.taskRole,
        description: `The Scalr agent's own AWS identity; Terraform runs use it (scalr-serverless stack ${stack})`,
        assumeRoleService: 'ecs-tasks.amazonaws.com',
        managedPolicyArns: [...settings.taskPolicyArns].sort(),
        inlinePolicy: null,
      },
    },
    {
      key: 'taskDefinition',
      kind: 'ecs.task-definition',
      name: names.taskFamily,
      props: {
        family: names.taskFamily,
        cpu: String(settings.cpu),
        memory: String(settings.memory),
        image: settings.image,
        containerName: AGENT_CONTAINER_NAME,
        executionRoleArn: ref('executionRole', 'arn'),
        taskRoleArn: ref('taskRole', 'arn'),
        logGroupName: ref('agentLogGroup', 'name'),
        // moto's RunTask needs a container-level reservation; half the task leaves room for the agent's children.
        memoryReservation: Math.floor(settings.memory * AGENT_MEMORY_RESERVATION_FRACTION),
        // The serverless modules set the SCALR_ names; Scalr's configuration docs use the SCALR_AGENT_
        // prefix. That the agent takes both is an inference, so both are set (FACTS.md §2).
        environment: [
          { name: 'SCALR_SINGLE', value: 'true' },
          { name: 'SCALR_DRIVER', value: 'local' },
          { name: 'SCALR_AGENT_SINGLE', value: 'true' },
          { name: 'SCALR_AGENT_DRIVER', value: 'local' },
        ],
      },
    },
    {
      key: 'handlerRole',
      kind: 'iam.role',
      name: names.handlerRole,
      props: {
        name: names.handlerRole,
        description: `The webhook handler: starts agent tasks (scalr-serverless stack ${stack})`,
        assumeRoleService: 'lambda.amazonaws.com',
        managedPolicyArns: [],
        inlinePolicy: handlerPolicy(identity, clusterArn),
      },
    },
    {
      key: 'handler',
      kind: 'lambda.function',
      name: names.functionName,
      props: {
        name: names.functionName,
        roleArn: ref('handlerRole', 'arn'),
        runtime: LAMBDA_RUNTIME,
        handler: HANDLER_ENTRY,
        timeout: settings.lambdaTimeout,
        memorySize: LAMBDA_MEMORY_MB,
        zipPath: lambda.zipPath,
        codeSha256: lambda.codeSha256,
        // The log group is made first so that it carries our tags and retention and `down` removes it.
        logGroupName: ref('handlerLogGroup', 'name'),
        environment: {
          [HANDLER_ENV.cluster]: ref('cluster', 'name'),
          [HANDLER_ENV.taskDefinition]: ref('taskDefinition', 'arn'),
          [HANDLER_ENV.container]: AGENT_CONTAINER_NAME,
          [HANDLER_ENV.subnets]: join(subnetKeys.map((key) => ref(key))),
          [HANDLER_ENV.securityGroups]: ref('securityGroup'),
          [HANDLER_ENV.allowedHosts]: settings.allowedScalrHosts.join(','),
          [HANDLER_ENV.stack]: stack,
        },
      },
    },
    { key: 'restApi', kind: 'apigateway.rest-api', name: names.restApi, props: { name: names.restApi, description: `Scalr serverless agent webhook (stack ${stack})` } },
    {
      key: 'webhookRoute',
      kind: 'apigateway.route',
      name: `${names.restApi} POST /${WEBHOOK_PATH}`,
      props: {
        restApiId: ref('restApi'),
        parentId: ref('restApi', 'rootResourceId'),
        pathPart: WEBHOOK_PATH,
        httpMethod: 'POST',
        apiKeyRequired: true,
        integrationUri: ref('handler', 'invokeArn'),
      },
    },
    {
      key: 'invokePermission',
      kind: 'lambda.permission',
      name: `${names.functionName}/${names.permissionStatement}`,
      props: {
        functionName: ref('handler', 'name'),
        statementId: names.permissionStatement,
        restApiId: ref('restApi'),
        stage: WEBHOOK_STAGE,
        httpMethod: 'POST',
        path: WEBHOOK_PATH,
      },
    },
    {
      key: 'deployment',
      kind: 'apigateway.deployment',
      name: `${names.restApi} deployment`,
      props: { restApiId: ref('restApi'), description: 'scalr-serverless webhook', trigger: join([ref('webhookRoute', 'id'), ref('webhookRoute', 'integrationUri')], '|') },
    },
    {
      key: 'stage',
      kind: 'apigateway.stage',
      name: `${names.restApi}/${WEBHOOK_STAGE}`,
      props: { restApiId: ref('restApi'), stageName: WEBHOOK_STAGE, deploymentId: ref('deployment') },
    },
    { key: 'apiKey', kind: 'apigateway.api-key', name: names.apiKey, props: { name: names.apiKey, description: `Scalr webhook deliveries (stack ${stack})` } },
    {
      key: 'usagePlan',
      kind: 'apigateway.usage-plan',
      name: names.usagePlan,
      props: {
        name: names.usagePlan,
        apiStages: [{ apiId: ref('restApi'), stage: ref('stage', 'stageName') }],
        apiKeyIds: [ref('apiKey')],
        ...USAGE_PLAN_LIMITS,
      },
    },
  ];
  return resources;
}

/** Least privilege for the handler: its own logs, RunTask of this family on this cluster, pass these two roles. */
function handlerPolicy(identity: StackIdentity, clusterArn: string): DesiredValue {
  const { stack, region, accountId } = identity;
  const names = stackNames(stack);
  const partition = partitionOf(region);
  const onThisCluster = { ArnEquals: { 'ecs:cluster': clusterArn } };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [`arn:${partition}:logs:${region}:${accountId}:log-group:${names.handlerLogGroup}:*`],
      },
      {
        Sid: 'RunAgentTask',
        Effect: 'Allow',
        Action: ['ecs:RunTask'],
        Resource: [`arn:${partition}:ecs:${region}:${accountId}:task-definition/${names.taskFamily}:*`],
        Condition: onThisCluster,
      },
      {
        Sid: 'FindStartedTasks',
        Effect: 'Allow',
        Action: ['ecs:ListTasks', 'ecs:DescribeTasks'],
        Resource: ['*'],
        Condition: onThisCluster,
      },
      {
        Sid: 'TagAgentTask',
        Effect: 'Allow',
        Action: ['ecs:TagResource'],
        Resource: [`arn:${partition}:ecs:${region}:${accountId}:task/${names.cluster}/*`],
        Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      },
      {
        Sid: 'PassAgentRoles',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: [ref('executionRole', 'arn'), ref('taskRole', 'arn')],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ],
  };
}

/** Kinds whose physical id carries their name, so a record's id can be checked against the stack's. */
const ID_CARRIES_NAME: Record<string, (id: string, name: string) => boolean> = {
  'iam.role': (id, name) => id === name,
  'lambda.function': (id, name) => id === name,
  'logs.log-group': (id, name) => id === name,
  'ecs.cluster': (id, name) => id === name || id.endsWith(`:cluster/${name}`),
  'ecs.task-definition': (id, name) => id === name || id.includes(`:task-definition/${name}:`),
  'lambda.permission': (id, name) => id === name,
};

/**
 * The state file's records that do not describe a resource of this stack: a key the stack does not
 * have, another kind, another name, or (where the id carries the name) another id. `down` and `up`
 * delete what the state file lists, so a hand-edited or mixed-up file must not make them delete
 * something else in the account. Returns one line per foreign record.
 */
export function foreignRecords(records: Record<string, { kind: string; name: string; id: string }>, desired: DesiredResource[]): string[] {
  const byKey = new Map(desired.map((resource) => [resource.key, resource]));
  const foreign: string[] = [];
  for (const [key, record] of Object.entries(records)) {
    const wanted = byKey.get(key);
    const idMatches = ID_CARRIES_NAME[record.kind]?.(record.id, wanted?.name ?? '') ?? true;
    if (!wanted || wanted.kind !== record.kind || wanted.name !== record.name || !idMatches) {
      foreign.push(`${key}: ${record.kind} ${record.id} (${record.name})`);
    }
  }
  return foreign;
}
