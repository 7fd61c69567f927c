/**
 * The least-privilege IAM policy a user (or CI role) needs to run `up`, `down`, `status`, `logs` and
 * `doctor`. Scoped to this tool's names (`scalr-serverless-*`) where AWS supports resource-level
 * permissions, and to the `managed-by=scalr-serverless` tag for EC2, whose ids are random.
 */
export function operatorPolicy(options: { partition?: string; region?: string; accountId?: string } = {}) {
  const partition = options.partition ?? 'aws';
  const region = options.region ?? '*';
  const account = options.accountId ?? '*';
  const ec2 = (type: string) => `arn:${partition}:ec2:${region}:${account}:${type}/*`;
  const tagged = { StringEquals: { 'aws:ResourceTag/managed-by': 'scalr-serverless' } };
  const tagging = { StringEquals: { 'aws:RequestTag/managed-by': 'scalr-serverless' } };
  const prefix = 'scalr-serverless-';
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadOnly',
        Effect: 'Allow',
        Action: [
          'sts:GetCallerIdentity',
          'ec2:DescribeAvailabilityZones',
          'ec2:DescribeVpcs',
          'ec2:DescribeVpcAttribute',
          'ec2:DescribeSubnets',
          'ec2:DescribeInternetGateways',
          'ec2:DescribeRouteTables',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSecurityGroupRules',
          'ec2:DescribeNetworkInterfaces',
          'ecs:DescribeClusters',
          'ecs:DescribeTaskDefinition',
          'ecs:DescribeTasks',
          'ecs:ListTasks',
          'ecs:ListTaskDefinitions',
          'logs:DescribeLogGroups',
          'lambda:ListFunctions',
        ],
        Resource: '*',
      },
      {
        Sid: 'CreateTaggedNetwork',
        Effect: 'Allow',
        Action: ['ec2:CreateVpc', 'ec2:CreateSubnet', 'ec2:CreateInternetGateway', 'ec2:CreateRouteTable', 'ec2:CreateSecurityGroup'],
        Resource: [ec2('vpc'), ec2('subnet'), ec2('internet-gateway'), ec2('route-table'), ec2('security-group')],
        Condition: tagging,
      },
      {
        Sid: 'CreateInsideOwnVpc',
        Effect: 'Allow',
        Action: ['ec2:CreateSubnet', 'ec2:CreateRouteTable', 'ec2:CreateSecurityGroup'],
        Resource: [ec2('vpc')],
        Condition: tagged,
      },
      {
        Sid: 'TagOnCreate',
        Effect: 'Allow',
        Action: ['ec2:CreateTags'],
        Resource: '*',
        Condition: {
          StringEquals: { 'ec2:CreateAction': ['CreateVpc', 'CreateSubnet', 'CreateInternetGateway', 'CreateRouteTable', 'CreateSecurityGroup'] },
        },
      },
      {
        Sid: 'ChangeOwnNetwork',
        Effect: 'Allow',
        Action: [
          'ec2:ModifyVpcAttribute',
          'ec2:ModifySubnetAttribute',
          'ec2:AttachInternetGateway',
          'ec2:DetachInternetGateway',
          'ec2:CreateRoute',
          'ec2:ReplaceRoute',
          'ec2:DeleteRoute',
          'ec2:AssociateRouteTable',
          'ec2:DisassociateRouteTable',
          'ec2:ReplaceRouteTableAssociation',
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:AuthorizeSecurityGroupEgress',
          'ec2:RevokeSecurityGroupIngress',
          'ec2:RevokeSecurityGroupEgress',
          'ec2:DeleteVpc',
          'ec2:DeleteSubnet',
          'ec2:DeleteInternetGateway',
          'ec2:DeleteRouteTable',
          'ec2:DeleteSecurityGroup',
        ],
        Resource: '*',
        Condition: tagged,
      },
      {
        Sid: 'OwnCluster',
        Effect: 'Allow',
        Action: ['ecs:CreateCluster', 'ecs:DeleteCluster', 'ecs:PutClusterCapacityProviders', 'ecs:UpdateCluster', 'ecs:TagResource'],
        Resource: [`arn:${partition}:ecs:${region}:${account}:cluster/${prefix}*`],
      },
      {
        Sid: 'StopOwnAgentTasks',
        Effect: 'Allow',
        Action: ['ecs:StopTask'],
        Resource: [`arn:${partition}:ecs:${region}:${account}:task/${prefix}*/*`],
      },
      {
        // Tags passed to RegisterTaskDefinition are authorized as ecs:TagResource on the new revision.
        Sid: 'TagOwnTaskDefinitionsOnCreate',
        Effect: 'Allow',
        Action: ['ecs:TagResource'],
        Resource: [`arn:${partition}:ecs:${region}:${account}:task-definition/${prefix}*:*`],
        Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      },
      {
        // RegisterTaskDefinition and DeleteTaskDefinitions do not support resource-level permissions.
        Sid: 'TaskDefinitions',
        Effect: 'Allow',
        Action: ['ecs:RegisterTaskDefinition', 'ecs:DeregisterTaskDefinition', 'ecs:DeleteTaskDefinitions'],
        Resource: '*',
      },
      {
        Sid: 'OwnRoles',
        Effect: 'Allow',
        Action: [
          'iam:CreateRole',
          'iam:DeleteRole',
          'iam:GetRole',
          'iam:TagRole',
          'iam:UpdateRole',
          'iam:AttachRolePolicy',
          'iam:DetachRolePolicy',
          'iam:ListAttachedRolePolicies',
          'iam:PutRolePolicy',
          'iam:GetRolePolicy',
          'iam:DeleteRolePolicy',
          'iam:ListRolePolicies',
          'iam:ListInstanceProfilesForRole',
        ],
        Resource: [`arn:${partition}:iam::${account}:role/${prefix}*`],
      },
      {
        Sid: 'PassOwnRoles',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: [`arn:${partition}:iam::${account}:role/${prefix}*`],
        Condition: { StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 'ecs-tasks.amazonaws.com'] } },
      },
      {
        Sid: 'EcsServiceLinkedRoleOnFirstUse',
        Effect: 'Allow',
        Action: ['iam:CreateServiceLinkedRole'],
        Resource: [`arn:${partition}:iam::${account}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`],
        Condition: { StringEquals: { 'iam:AWSServiceName': 'ecs.amazonaws.com' } },
      },
      {
        // doctor checks that the role exists; up only creates it when CreateCluster says it is missing.
        Sid: 'ReadEcsServiceLinkedRole',
        Effect: 'Allow',
        Action: ['iam:GetRole'],
        Resource: [`arn:${partition}:iam::${account}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`],
      },
      {
        Sid: 'OwnFunction',
        Effect: 'Allow',
        Action: [
          'lambda:CreateFunction',
          'lambda:DeleteFunction',
          'lambda:GetFunction',
          'lambda:GetFunctionConfiguration',
          'lambda:UpdateFunctionCode',
          'lambda:UpdateFunctionConfiguration',
          'lambda:AddPermission',
          'lambda:RemovePermission',
          'lambda:GetPolicy',
          'lambda:TagResource',
          'lambda:ListTags',
        ],
        Resource: [`arn:${partition}:lambda:${region}:${account}:function:${prefix}*`],
      },
      {
        // API Gateway ids are random, so its resources cannot be scoped by name.
        Sid: 'RestApiKeyAndUsagePlan',
        Effect: 'Allow',
        Action: ['apigateway:GET', 'apigateway:POST', 'apigateway:PUT', 'apigateway:PATCH', 'apigateway:DELETE'],
        Resource: [
          `arn:${partition}:apigateway:${region}::/restapis`,
          `arn:${partition}:apigateway:${region}::/restapis/*`,
          `arn:${partition}:apigateway:${region}::/apikeys`,
          `arn:${partition}:apigateway:${region}::/apikeys/*`,
          `arn:${partition}:apigateway:${region}::/usageplans`,
          `arn:${partition}:apigateway:${region}::/usageplans/*`,
          `arn:${partition}:apigateway:${region}::/tags/*`,
        ],
      },
      {
        Sid: 'OwnLogGroups',
        Effect: 'Allow',
        Action: [
          'logs:CreateLogGroup',
          'logs:DeleteLogGroup',
          'logs:PutRetentionPolicy',
          'logs:DeleteRetentionPolicy',
          'logs:TagResource',
          'logs:TagLogGroup',
          'logs:FilterLogEvents',
          'logs:GetLogEvents',
          'logs:DescribeLogStreams',
        ],
        Resource: [
          `arn:${partition}:logs:${region}:${account}:log-group:/ecs/${prefix}*`,
          `arn:${partition}:logs:${region}:${account}:log-group:/aws/lambda/${prefix}*`,
        ],
      },
    ],
  };
}
