import {
  AssociateRouteTableCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteRouteCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  ModifySubnetAttributeCommand,
  ModifyVpcAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceContext } from '../../src/resources/contract.js';
import { internetGatewayKind } from '../../src/resources/internet-gateway.js';
import { routeTableKind } from '../../src/resources/route-table.js';
import { securityGroupKind } from '../../src/resources/security-group.js';
import { subnetKind } from '../../src/resources/subnet.js';
import { vpcKind } from '../../src/resources/vpc.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { motoResourceContext } from '../helpers/resource-context.js';

let moto: MotoServer;
let ctx: ResourceContext & { waits: string[] };

beforeAll(async () => {
  moto = await startMoto();
  ctx = await motoResourceContext(moto, 'nettest');
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

function tagMap(tags: Tag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));
}

/** A VPC and subnets made with the SDK, so each kind is tested on its own. */
async function sdkVpc(cidr: string): Promise<string> {
  const { Vpc } = await ctx.clients.ec2.send(new CreateVpcCommand({ CidrBlock: cidr }));
  return Vpc!.VpcId!;
}

async function sdkSubnet(vpcId: string, cidr: string): Promise<string> {
  const { Subnet } = await ctx.clients.ec2.send(
    new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: 'us-east-1a' }),
  );
  return Subnet!.SubnetId!;
}

describe('ec2.vpc', () => {
  it('creates a tagged VPC with DNS hostnames, adopts it, converges DNS and deletes idempotently', async () => {
    const props = { name: 'nettest-vpc', cidrBlock: '10.10.0.0/16', enableDnsSupport: true, enableDnsHostnames: true };
    const made = await vpcKind.create(ctx, props);
    expect(made.outputs).toEqual({ id: made.id, cidrBlock: '10.10.0.0/16' });

    const { Vpcs } = await ctx.clients.ec2.send(new DescribeVpcsCommand({ VpcIds: [made.id] }));
    expect(tagMap(Vpcs![0].Tags)).toMatchObject({ Name: 'nettest-vpc', 'scalr-serverless:stack': 'nettest' });
    const dnsAttr = async (Attribute: 'enableDnsHostnames' | 'enableDnsSupport') => {
      const out = await ctx.clients.ec2.send(new DescribeVpcAttributeCommand({ VpcId: made.id, Attribute }));
      return (out.EnableDnsHostnames ?? out.EnableDnsSupport)?.Value;
    };
    expect(await dnsAttr('enableDnsHostnames')).toBe(true);
    expect(await dnsAttr('enableDnsSupport')).toBe(true);

    expect(await vpcKind.read(ctx, made.id, props)).toEqual({ outputs: made.outputs, props: { cidrBlock: '10.10.0.0/16', enableDnsSupport: true, enableDnsHostnames: true } });
    expect((await vpcKind.find(ctx, props))?.id).toBe(made.id);
    expect(await vpcKind.find(ctx, { ...props, name: 'someone-else' })).toBeUndefined();

    // Someone turns hostnames off (RunTask would then fail); update turns them back on.
    await ctx.clients.ec2.send(new ModifyVpcAttributeCommand({ VpcId: made.id, EnableDnsHostnames: { Value: false } }));
    expect(await dnsAttr('enableDnsHostnames')).toBe(false);
    // ... and read shows it as drift, so up repairs it
    expect((await vpcKind.read(ctx, made.id, props))?.props).toMatchObject({ enableDnsHostnames: false });
    await vpcKind.update!(ctx, made.id, props, props);
    expect(await dnsAttr('enableDnsHostnames')).toBe(true);

    await vpcKind.delete(ctx, made.id, props);
    expect(await vpcKind.read(ctx, made.id, props)).toBeUndefined();
    await vpcKind.delete(ctx, made.id, props);
  });
});

describe('ec2.subnet', () => {
  it('creates a public tagged subnet, adopts it by VPC and CIDR, converges the public IP setting', async () => {
    const vpcId = await sdkVpc('10.20.0.0/16');
    const props = { name: 'nettest-a', vpcId, cidrBlock: '10.20.1.0/24', availabilityZone: 'us-east-1b' };
    const made = await subnetKind.create(ctx, props);
    expect(made.outputs).toEqual({ id: made.id, availabilityZone: 'us-east-1b' });

    const describeSubnet = async () =>
      (await ctx.clients.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [made.id] }))).Subnets![0];
    const subnet = await describeSubnet();
    expect(subnet.MapPublicIpOnLaunch).toBe(true);
    expect(tagMap(subnet.Tags)).toMatchObject({ Name: 'nettest-a', 'scalr-serverless:stack': 'nettest' });

    const observed = await subnetKind.read(ctx, made.id, props);
    expect(observed?.props).toEqual({ vpcId, cidrBlock: '10.20.1.0/24', availabilityZone: 'us-east-1b' });
    expect((await subnetKind.find(ctx, props))?.id).toBe(made.id);

    await ctx.clients.ec2.send(new ModifySubnetAttributeCommand({ SubnetId: made.id, MapPublicIpOnLaunch: { Value: false } }));
    await subnetKind.update!(ctx, made.id, props, props);
    expect((await describeSubnet()).MapPublicIpOnLaunch).toBe(true);

    await subnetKind.delete(ctx, made.id, props);
    expect(await subnetKind.read(ctx, made.id, props)).toBeUndefined();
    await subnetKind.delete(ctx, made.id, props);
  });
});

describe('ec2.internet-gateway', () => {
  it('attaches to the VPC, outputs vpcId only while attached, reattaches on update, detaches on delete', async () => {
    const vpcId = await sdkVpc('10.30.0.0/16');
    const props = { name: 'nettest-igw', vpcId };
    const made = await internetGatewayKind.create(ctx, props);
    expect(made.outputs).toEqual({ id: made.id, vpcId });

    const describeGateway = async () =>
      (await ctx.clients.ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [made.id] }))).InternetGateways![0];
    const gateway = await describeGateway();
    expect(gateway.Attachments?.map((a) => a.VpcId)).toEqual([vpcId]);
    expect(tagMap(gateway.Tags)).toMatchObject({ Name: 'nettest-igw', 'scalr-serverless:stack': 'nettest' });
    expect((await internetGatewayKind.read(ctx, made.id, props))?.props).toEqual({ vpcId });
    expect((await internetGatewayKind.find(ctx, props))?.id).toBe(made.id);

    await ctx.clients.ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: made.id, VpcId: vpcId }));
    const detached = await internetGatewayKind.read(ctx, made.id, props);
    expect(detached?.outputs).toEqual({ id: made.id });
    expect(detached?.props).toEqual({ vpcId: '' });

    const updated = await internetGatewayKind.update!(ctx, made.id, props, props);
    expect(updated.outputs.vpcId).toBe(vpcId);
    expect((await describeGateway()).Attachments?.map((a) => a.VpcId)).toEqual([vpcId]);

    await internetGatewayKind.delete(ctx, made.id, props);
    expect(await internetGatewayKind.read(ctx, made.id, props)).toBeUndefined();
    await internetGatewayKind.delete(ctx, made.id, props);
  });
});

describe('ec2.route-table', () => {
  it('routes 0.0.0.0/0 to the gateway for every subnet and converges a missing route and association', async () => {
    const vpcId = await sdkVpc('10.40.0.0/16');
    const first = await sdkSubnet(vpcId, '10.40.1.0/24');
    const second = await sdkSubnet(vpcId, '10.40.2.0/24');
    const gateway = await internetGatewayKind.create(ctx, { name: 'nettest-rt-igw', vpcId });
    const props = { name: 'nettest-rt', vpcId, gatewayId: gateway.id, subnetIds: [second, first] };
    const made = await routeTableKind.create(ctx, props);
    expect(made.outputs).toEqual({ id: made.id });

    const describeTable = async () =>
      (await ctx.clients.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [made.id] }))).RouteTables![0];
    const defaultRoute = async () => (await describeTable()).Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
    const associatedSubnets = async () =>
      ((await describeTable()).Associations ?? []).filter((a) => a.SubnetId).map((a) => a.SubnetId).sort();
    expect((await defaultRoute())?.GatewayId).toBe(gateway.id);
    expect(await associatedSubnets()).toEqual([first, second].sort());
    expect(tagMap((await describeTable()).Tags)).toMatchObject({ Name: 'nettest-rt', 'scalr-serverless:stack': 'nettest' });

    const observed = await routeTableKind.read(ctx, made.id, props);
    // The same set as recorded comes back in the recorded order, so it is not reported as drift.
    expect(observed?.props).toEqual({ vpcId, gatewayId: gateway.id, subnetIds: [second, first] });
    expect((await routeTableKind.find(ctx, props))?.id).toBe(made.id);

    // Given a crash (or a hand edit) left no default route and one association missing,
    const table = await describeTable();
    await ctx.clients.ec2.send(new DeleteRouteCommand({ RouteTableId: made.id, DestinationCidrBlock: '0.0.0.0/0' }));
    const secondAssociation = table.Associations!.find((a) => a.SubnetId === second)!;
    await ctx.clients.ec2.send(new DisassociateRouteTableCommand({ AssociationId: secondAssociation.RouteTableAssociationId }));
    expect((await routeTableKind.read(ctx, made.id, props))?.props).toMatchObject({ gatewayId: '', subnetIds: [first] });
    // when update runs, then both are back.
    await routeTableKind.update!(ctx, made.id, props, props);
    expect((await defaultRoute())?.GatewayId).toBe(gateway.id);
    expect(await associatedSubnets()).toEqual([first, second].sort());
    // Compared with a different recorded set, the observed ids come back sorted.
    const drifted = await routeTableKind.read(ctx, made.id, { ...props, subnetIds: [first] });
    expect(drifted?.props?.subnetIds).toEqual([first, second].sort());

    // A subnet dropped from the list loses its association.
    await routeTableKind.update!(ctx, made.id, { ...props, subnetIds: [first] }, props);
    expect(await associatedSubnets()).toEqual([first]);

    // A subnet someone associated with another table is moved over to ours.
    const other = await ctx.clients.ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }));
    await ctx.clients.ec2.send(new AssociateRouteTableCommand({ RouteTableId: other.RouteTable!.RouteTableId, SubnetId: second }));
    await routeTableKind.update!(ctx, made.id, props, props);
    expect(await associatedSubnets()).toEqual([first, second].sort());

    await routeTableKind.delete(ctx, made.id, props);
    expect(await routeTableKind.read(ctx, made.id, props)).toBeUndefined();
    await routeTableKind.delete(ctx, made.id, props);
  });
});

describe('ec2.security-group', () => {
  it('has all egress and no ingress, opens and closes all ingress on update, deletes idempotently', async () => {
    const vpcId = await sdkVpc('10.50.0.0/16');
    const props = { name: 'nettest-sg', description: 'agents', vpcId, allowAllIngress: false };
    const made = await securityGroupKind.create(ctx, props);
    expect(made.outputs).toEqual({ id: made.id });

    const describeGroup = async () =>
      (await ctx.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [made.id] }))).SecurityGroups![0];
    const allTraffic = (p: { IpProtocol?: string; IpRanges?: { CidrIp?: string }[] }) =>
      p.IpProtocol === '-1' && Boolean(p.IpRanges?.some((r) => r.CidrIp === '0.0.0.0/0'));
    let group = await describeGroup();
    expect(group.IpPermissions ?? []).toEqual([]);
    expect(group.IpPermissionsEgress?.some(allTraffic)).toBe(true);
    expect(tagMap(group.Tags)).toMatchObject({ Name: 'nettest-sg', 'scalr-serverless:stack': 'nettest' });
    expect((await securityGroupKind.read(ctx, made.id, props))?.props).toMatchObject({ allowAllIngress: false });
    expect((await securityGroupKind.find(ctx, props))?.id).toBe(made.id);

    const open = { ...props, allowAllIngress: true };
    await securityGroupKind.update!(ctx, made.id, open, props);
    group = await describeGroup();
    expect(group.IpPermissions?.some(allTraffic)).toBe(true);
    expect((await securityGroupKind.read(ctx, made.id, open))?.props).toMatchObject({ allowAllIngress: true });

    // Closing again also restores an egress rule revoked by hand.
    await ctx.clients.ec2.send(
      new RevokeSecurityGroupEgressCommand({ GroupId: made.id, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }),
    );
    await securityGroupKind.update!(ctx, made.id, props, open);
    group = await describeGroup();
    expect(group.IpPermissions ?? []).toEqual([]);
    expect(group.IpPermissionsEgress?.some(allTraffic)).toBe(true);

    await securityGroupKind.delete(ctx, made.id, props);
    expect(await securityGroupKind.read(ctx, made.id, props)).toBeUndefined();
    await securityGroupKind.delete(ctx, made.id, props);
  });
});
