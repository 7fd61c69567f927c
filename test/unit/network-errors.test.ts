import {
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DeleteInternetGatewayCommand,
  DetachInternetGatewayCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeClustersCommand, ECSClient, ECSServiceException } from '@aws-sdk/client-ecs';
import { CreateServiceLinkedRoleCommand, IAMClient, IAMServiceException } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/aws/clients.js';
import type { ResourceContext } from '../../src/resources/contract.js';
import { ecsClusterKind } from '../../src/resources/ecs-cluster.js';
import { internetGatewayKind } from '../../src/resources/internet-gateway.js';
import { securityGroupKind } from '../../src/resources/security-group.js';
import { subnetKind } from '../../src/resources/subnet.js';
import { vpcKind } from '../../src/resources/vpc.js';

// Set before the clients exist: the SDK checks it when a client is constructed.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const ec2 = new EC2Client({ region: 'us-east-1', credentials });
const ecs = new ECSClient({ region: 'us-east-1', credentials });
const iam = new IAMClient({ region: 'us-east-1', credentials });
const ec2Mock = mockClient(ec2);
const ecsMock = mockClient(ecs);
const iamMock = mockClient(iam);

let previousScale: string | undefined;
beforeAll(() => {
  previousScale = process.env.SCALR_SERVERLESS_RETRY_SCALE;
  // 15 minutes of ENI waiting becomes 0.9 s; backoff delays shrink the same way.
  process.env.SCALR_SERVERLESS_RETRY_SCALE = '0.001';
});
afterAll(() => {
  if (previousScale === undefined) delete process.env.SCALR_SERVERLESS_RETRY_SCALE;
  else process.env.SCALR_SERVERLESS_RETRY_SCALE = previousScale;
});

let waits: string[];
let ctx: ResourceContext;
beforeEach(() => {
  ec2Mock.reset();
  ecsMock.reset();
  iamMock.reset();
  waits = [];
  ctx = {
    clients: { ec2, ecs, iam } as unknown as AwsClients,
    stack: 'unit',
    region: 'us-east-1',
    accountId: '123456789012',
    tags: { 'scalr-serverless:stack': 'unit' },
    waiting: (message) => waits.push(message),
  };
});

function dependencyViolation(message = 'resource has a dependent object'): EC2ServiceException {
  return new EC2ServiceException({ name: 'DependencyViolation', $fault: 'client', $metadata: {}, message });
}

const twoEnis = { NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1' }, { NetworkInterfaceId: 'eni-2' }] };

describe('teardown while Fargate ENIs linger', () => {
  it('retries a security group delete until its ENIs are released, saying how many remain', async () => {
    ec2Mock
      .on(DeleteSecurityGroupCommand)
      .rejectsOnce(dependencyViolation())
      .rejectsOnce(dependencyViolation())
      .resolves({});
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves(twoEnis);

    await securityGroupKind.delete(ctx, 'sg-1', { name: 'g', description: 'd', vpcId: 'vpc-1', allowAllIngress: false });

    expect(ec2Mock.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(3);
    expect(ec2Mock.commandCalls(DescribeNetworkInterfacesCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'group-id', Values: ['sg-1'] },
    ]);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toContain('waiting for 2 network interfaces using sg-1 to be released');
  });

  it('retries a subnet delete until its ENIs are released, saying how many remain', async () => {
    ec2Mock.on(DeleteSubnetCommand).rejectsOnce(dependencyViolation()).rejectsOnce(dependencyViolation()).resolves({});
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves(twoEnis);

    await subnetKind.delete(ctx, 'subnet-1', { name: 's', vpcId: 'vpc-1', cidrBlock: '10.0.1.0/24', availabilityZone: 'a' });

    expect(ec2Mock.commandCalls(DeleteSubnetCommand)).toHaveLength(3);
    expect(ec2Mock.commandCalls(DescribeNetworkInterfacesCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'subnet-id', Values: ['subnet-1'] },
    ]);
    expect(waits[0]).toContain('waiting for 2 network interfaces in subnet-1 to be released');
  });

  it('gives up after the bounded wait with the last DependencyViolation', async () => {
    let attempts = 0;
    ec2Mock.on(DeleteSubnetCommand).callsFake(() => {
      attempts++;
      throw dependencyViolation(`still in use, attempt ${attempts}`);
    });
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1' }] });

    const started = Date.now();
    const failure = await subnetKind
      .delete(ctx, 'subnet-1', { name: 's', vpcId: 'vpc-1', cidrBlock: '10.0.1.0/24', availabilityZone: 'a' })
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(EC2ServiceException);
    expect((failure as Error).name).toBe('DependencyViolation');
    expect((failure as Error).message).toBe(`still in use, attempt ${attempts}`);
    expect(attempts).toBeGreaterThan(2);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(waits.at(-1)).toContain('waiting for 1 network interface in subnet-1 to be released');
  });

  it('retries a VPC delete while EC2 still sees dependencies', async () => {
    ec2Mock.on(DeleteVpcCommand).rejectsOnce(dependencyViolation()).resolves({});

    await vpcKind.delete(ctx, 'vpc-1', { name: 'v', cidrBlock: '10.0.0.0/16', enableDnsSupport: true, enableDnsHostnames: true });

    expect(ec2Mock.commandCalls(DeleteVpcCommand)).toHaveLength(2);
    expect(waits[0]).toContain('waiting for the dependencies of vpc-1 to be released');
  });

  it('detaches the internet gateway once no ENI in the VPC holds a public IP', async () => {
    ec2Mock.on(DescribeInternetGatewaysCommand).resolves({
      InternetGateways: [{ InternetGatewayId: 'igw-1', Attachments: [{ VpcId: 'vpc-1', State: 'attached' }] }],
    });
    ec2Mock.on(DetachInternetGatewayCommand).rejectsOnce(dependencyViolation()).resolves({});
    ec2Mock.on(DeleteInternetGatewayCommand).resolves({});
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        { NetworkInterfaceId: 'eni-1', Association: { PublicIp: '3.3.3.3' } },
        { NetworkInterfaceId: 'eni-2' },
      ],
    });

    await internetGatewayKind.delete(ctx, 'igw-1', { name: 'i', vpcId: 'vpc-1' });

    expect(ec2Mock.commandCalls(DetachInternetGatewayCommand)).toHaveLength(2);
    expect(ec2Mock.commandCalls(DeleteInternetGatewayCommand)).toHaveLength(1);
    expect(waits[0]).toContain('waiting for 1 network interface with public IPs in vpc-1 to be released');
  });
});

describe('ECS service-linked role on first use', () => {
  const missingRole = () =>
    new ECSServiceException({
      name: 'InvalidParameterException',
      $fault: 'client',
      $metadata: {},
      message: 'Unable to assume the service linked role. Please verify that the ECS service linked role exists.',
    });
  const cluster = { clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/c', clusterName: 'c', status: 'ACTIVE',
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] };
  const props = { name: 'c', capacityProviders: ['FARGATE', 'FARGATE_SPOT'] };

  it('creates the role and retries CreateCluster while it propagates', async () => {
    ecsMock.on(CreateClusterCommand).rejectsOnce(missingRole()).rejectsOnce(missingRole()).resolves({ cluster });
    ecsMock.on(DescribeClustersCommand).resolves({ clusters: [cluster] });
    iamMock.on(CreateServiceLinkedRoleCommand).resolves({});

    const made = await ecsClusterKind.create(ctx, props);

    expect(made.id).toBe(cluster.clusterArn);
    expect(iamMock.commandCalls(CreateServiceLinkedRoleCommand).map((c) => c.args[0].input)).toEqual([
      { AWSServiceName: 'ecs.amazonaws.com' },
    ]);
    expect(ecsMock.commandCalls(CreateClusterCommand)).toHaveLength(3);
    expect(waits.some((w) => w.includes('service-linked role'))).toBe(true);
  });

  it('goes on when the role already exists (another tool created it meanwhile)', async () => {
    ecsMock.on(CreateClusterCommand).rejectsOnce(missingRole()).resolves({ cluster });
    iamMock.on(CreateServiceLinkedRoleCommand).rejects(
      new IAMServiceException({
        name: 'InvalidInputException',
        $fault: 'client',
        $metadata: {},
        message: 'Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix.',
      }),
    );

    expect((await ecsClusterKind.create(ctx, props)).id).toBe(cluster.clusterArn);
  });

  it('gives up after the bounded wait with the last CreateCluster error', async () => {
    ecsMock.on(CreateClusterCommand).rejects(missingRole());
    iamMock.on(CreateServiceLinkedRoleCommand).resolves({});

    await expect(ecsClusterKind.create(ctx, props)).rejects.toThrow(/service linked role/);
    expect(ecsMock.commandCalls(CreateClusterCommand).length).toBeGreaterThan(2);
  });

  it('does not touch IAM for other CreateCluster failures', async () => {
    ecsMock.on(CreateClusterCommand).rejects(
      new ECSServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'denied' }),
    );
    await expect(ecsClusterKind.create(ctx, props)).rejects.toThrow('denied');
    expect(iamMock.commandCalls(CreateServiceLinkedRoleCommand)).toHaveLength(0);
  });
});
